import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit

extension Archiver {
    /// `archiver cleanup`: what uploads and deletions leave behind, and archiver's own leftovers.
    struct Cleanup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Abort stale multipart uploads, delete objects whose owner is gone, remove archiver's leftovers.",
            discussion: """
                Under a root (s3://bucket/prefix/ or a folder): aborts multipart uploads started more than \
                --uploads-older-than ago (one that already holds parts is reported for review and kept, unless \
                --abort-partial), and deletes the objects older than --orphans-older-than whose owning item does not \
                exist: the owner's id is found in the key by --key-pattern (a template: * for any text in a segment, \
                ** across segments, one {name} hole for the id) or --key-regex (one capture group), and looked up in \
                --owner (dynamodb:<table>[#<key attribute>] or sqlite:<db>#<table>#<column>). A key without an id is \
                never deleted; a lookup that fails keeps the object and counts an error. Also removes temporary files of \
                dead processes in the state folder, a local archive and --sync-jsonl files, and, when asked, dead letters \
                and completed deletion-queue entries past a retention. Without a root, cleans the targets of the \
                configuration file (cleanup: in docs/configuration.md).

                --dry-run prints every action a real run would take and changes nothing. The summary counts items \
                checked, objects deleted, uploads aborted and kept for review, bytes freed and errors; --metrics-file \
                writes them for node_exporter's textfile collector. Exits 1 when there were errors.

                EXAMPLES:
                  archiver cleanup s3://user-content/uploads/ --key-pattern '*/{sessionId}.*' \\
                      --owner dynamodb:UploadSessions --dry-run
                  archiver cleanup s3://user-content/uploads/ --abort-partial
                  archiver cleanup /srv/app/files --key-regex '^([0-9]+)/' \\
                      --owner sqlite:/srv/app/app.db#files#id --orphans-older-than 48h
                  archiver cleanup --config /etc/archiver.yml --state /var/lib/archiver \\
                      --dead-letters-older-than 90d \\
                      --metrics-file /var/lib/node_exporter/archiver_cleanup.prom
                """)

        @Argument(help: ArgumentHelp("The root to clean: s3://bucket/prefix/ or a folder. Default: the configuration file's targets.", valueName: "root"))
        var root: Parsed<ArchiveLocation>?

        @Option(help: ArgumentHelp("Where the owner's id is in a key below the root: a template such as '*/{sessionId}.*'.", valueName: "template"))
        var keyPattern: String?

        @Option(help: ArgumentHelp("Where the owner's id is in a key: a regular expression with one capture group.", valueName: "regex"))
        var keyRegex: String?

        @Option(help: ArgumentHelp("The owner table: dynamodb:<table>[#<key attribute>] or sqlite:<db>#<table>#<column>.", valueName: "table"))
        var owner: Parsed<OwnerSpec>?

        @Option(help: ArgumentHelp("Only objects last written longer ago than this are judged. Default: 24h.", valueName: "duration"))
        var orphansOlderThan: Parsed<ConfigurationDuration>?

        @Option(help: ArgumentHelp("Multipart uploads started longer ago than this are stale. Default: 24h.", valueName: "duration"))
        var uploadsOlderThan: Parsed<ConfigurationDuration>?

        @Flag(inversion: .prefixedNo, help: "Also abort stale uploads that already hold parts (default: report them for review).")
        var abortPartial: Bool?

        @Flag(inversion: .prefixedNo, help: "Abort stale multipart uploads under S3 roots (default: yes).")
        var uploads: Bool?

        @Option(help: ArgumentHelp("A local archive whose .tmp/ leftovers to remove. Default: ARCHIVER_ARCHIVE, then the configuration file.", valueName: "dir"))
        var archive: Parsed<ArchiveLocation>?

        @Option(help: ArgumentHelp("The state folder. Default: ARCHIVER_STATE, the configuration file, then .archiver if it exists.", valueName: "dir"))
        var state: String?

        @Option(name: .customLong("sync-jsonl"), help: ArgumentHelp("A file written by `sync --jsonl` whose leftovers to remove (repeatable).", valueName: "file"))
        var syncJSONLines: [String] = []

        @Option(help: ArgumentHelp("Remove dead letters that last failed longer ago than this. Default: keep them.", valueName: "duration"))
        var deadLettersOlderThan: Parsed<ConfigurationDuration>?

        @Option(help: ArgumentHelp("Remove deletion-queue entries completed longer ago than this. Default: keep them.", valueName: "duration"))
        var queueCompletedOlderThan: Parsed<ConfigurationDuration>?

        @Flag(inversion: .prefixedNo, help: "Print what a real run would do; change nothing.")
        var dryRun: Bool?

        @Option(help: ArgumentHelp("Write the counts in Prometheus text format to this file (atomically).", valueName: "file"))
        var metricsFile: String?

        @OptionGroup var config: ConfigOption
        @OptionGroup var output: OutputOption

        func validate() throws {
            if let root, case .null = try root.value("<root>") {
                throw ValidationError("null: holds nothing to clean; give s3://bucket/prefix/ or a folder")
            }
            _ = try owner?.value("--owner")
            _ = try orphansOlderThan?.value("--orphans-older-than")
            _ = try uploadsOlderThan?.value("--uploads-older-than")
            _ = try archive?.value("--archive")
            _ = try deadLettersOlderThan?.value("--dead-letters-older-than")
            _ = try queueCompletedOlderThan?.value("--queue-completed-older-than")
        }

        /// The values given on the command line.
        var flags: CleanupFlags {
            get throws {
                CleanupFlags(
                    root: try root?.value("<root>"), keyPattern: keyPattern, keyRegex: keyRegex, owner: try owner?.value("--owner"),
                    orphansOlderThan: try orphansOlderThan?.value("--orphans-older-than"),
                    uploadsOlderThan: try uploadsOlderThan?.value("--uploads-older-than"), abortPartial: abortPartial, uploads: uploads,
                    archive: try archive?.value("--archive"), state: state, syncJSONLines: syncJSONLines,
                    deadLettersOlderThan: try deadLettersOlderThan?.value("--dead-letters-older-than"),
                    queueCompletedOlderThan: try queueCompletedOlderThan?.value("--queue-completed-older-than"), dryRun: dryRun,
                    metricsFile: metricsFile)
            }
        }

        func run() async throws {
            let logger = Terminal.logger
            let wiring = Wiring(logger: logger)
            let settings = try flags.resolve(try config.load(), environment: ProcessInfo.processInfo.environment)

            var targets: [CleanupTarget] = []
            for target in settings.targets {
                let orphans = try target.orphans.map {
                    OrphanRule(pattern: $0.pattern, owners: try wiring.ownerLookup($0.owner), olderThan: $0.olderThan)
                }
                targets.append(CleanupTarget(root: try wiring.cleanupRoot(target.location), uploads: target.uploads, orphans: orphans))
            }
            var queue: (any CompletedQueueEntries)?
            if settings.queueRetention != nil, let stateFolder = settings.stateFolder {
                queue = try wiring.completedQueueEntries(stateFolder: stateFolder)
                if queue == nil {
                    throw ValidationError("--queue-completed-older-than: \(stateFolder) holds no state database, so no deletion queue; give the state folder the tail uses (--state, ARCHIVER_STATE or state: in the configuration)")
                }
            }
            let housekeeping = Housekeeping(
                archiveFolder: settings.archiveFolder, stateFolder: settings.stateFolder, syncJSONLines: settings.syncJSONLines,
                deadLetterRetention: settings.deadLetterRetention, queueRetention: settings.queueRetention, queue: queue)

            let listActions = settings.dryRun && !output.json
            let run = CleanupRun(targets: targets, housekeeping: housekeeping, dryRun: settings.dryRun, logger: logger)
            let summary = await run.run { plan in
                guard listActions else { return }
                for action in plan.actions { Terminal.print(CleanupText.line(action, in: plan.place, dryRun: true)) }
            }

            if let file = settings.metricsFile {
                if settings.dryRun {
                    Terminal.printError("note: a dry run leaves the metrics file \(file) as it is")
                } else {
                    let metrics = summary.metrics
                    try MetricsTextFile(path: file).write(counters: metrics.counters, gauges: metrics.gauges)
                }
            }
            if output.json {
                Terminal.print(summary.json.formatted(indent: 2))
            } else {
                if listActions && !summary.actions.isEmpty { Terminal.print("") }
                summary.textLines.forEach(Terminal.print)
            }
            if summary.totals.errors > 0 { throw ExitCode(1) }
        }
    }
}
