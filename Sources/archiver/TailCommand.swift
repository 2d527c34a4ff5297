import ArchiverCore
import ArchiverServe
import ArgumentParser
import Foundation
import Logging

extension Archiver {
    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive the deletions of a change feed.",
            discussion: """
                Reads the source in order and archives every REMOVE (manual deletes and TTL expiries), the whole \
                record gzipped, as

                  <archive>/YYYY/MM/DD/<item key>.<HHMMSS>.<sequence>.<manual|ttl>.json.gz

                Passes over INSERT and MODIFY; dead-letters what it cannot archive (`archiver dlq` shows them). \
                Follows the source until SIGTERM or SIGINT (then finishes what is in flight, saves the checkpoint \
                and exits 0), or, with --once, stops at the end of what is there and prints a summary. A restart \
                resumes after the checkpoint kept in the state folder.

                EXAMPLES:
                  archiver tail --source jsonl:/var/log/app/changes.jsonl --archive ./archive
                  archiver tail --source sqlite:app.db --archive ./archive --once
                  archiver tail --source dynamodb:users --archive s3://archives/users \\
                      --state /var/lib/archiver --sse aws:kms
                  archiver tail --source jsonl:feed.jsonl --archive null: --once --json
                  archiver tail --source jsonl:feed.jsonl --archive ./archive \\
                      --metrics-listen 127.0.0.1:9464
                """)

        @Option(help: ArgumentHelp("The change feed: jsonl:<file>, sqlite:<db>, dynamodb:<table> or dynamodb-stream:<arn>.", valueName: "spec"))
        var source: Parsed<SourceSpec>

        @OptionGroup var archive: ArchiveOption
        @OptionGroup var encryption: EncryptionOption
        @OptionGroup var state: StateOption

        @Flag(help: "Stop at the end of what the source holds now, and print a summary.")
        var once = false

        @OptionGroup var output: OutputOption

        @Option(help: "Compression level, 1 (fastest) to 12 (smallest); level 6 makes objects about 2% smaller for a third more CPU.")
        var gzipLevel = GzipEncoder.defaultLevel

        @Option(help: "Threads that parse and compress (default: one per core).")
        var workers: Int?
        @OptionGroup var limit: RecordLimitOption
        @OptionGroup var metrics: MetricsListenOption

        func validate() throws {
            _ = try source.value("--source")
            guard (1...12).contains(gzipLevel) else { throw ValidationError("--gzip-level must be 1 to 12 (\(GzipEncoder.defaultLevel) when not given)") }
            if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
            _ = try encryption.encryption(for: archive)
        }

        func run() async throws {
            let logger = Terminal.logger
            metrics.bootstrap()
            let wiring = Wiring(logger: logger)
            let stop = StopSignal()
            let signals = Terminal.stopOnSignals(stop)
            defer { signals.forEach { $0.cancel() } }
            let progress = ProgressLine()
            var options = TailOptions(follow: !once, gzipLevel: gzipLevel, maxRecordBytes: limit.maxRecordBytes)
            if let workers { options.workers = workers }
            // Before the checkpoint database is opened: a second writer is told who holds the folder.
            let lock = try StateFolderLock(stateFolder: state.state)
            defer { withExtendedLifetime(lock) {} }
            let checkpoints = try CheckpointStore(stateFolder: state.state)
            // Gaps the source reports go into the state folder and the summary through the pipeline.
            let changeSource = try await wiring.source(try source.value("--source"), maxRecordBytes: limit.maxRecordBytes)
            let pipeline = ArchivePipeline(
                source: changeSource,
                store: try wiring.store(try archive.location, serverSideEncryption: try encryption.encryption(for: archive), access: .create),
                checkpoints: checkpoints,
                deadLetters: try DeadLetterFolder(stateFolder: state.state),
                options: options, logger: logger,
                progress: { summary in
                    progress.update("read \(summary.read)  archived \(summary.archived)  passed over \(summary.passedOver)  dead-lettered \(summary.deadLettered)")
                })
            let summary = try await metrics.serving(logger: logger, refresh: { await MetricsEndpoint.refreshGauges(pipeline: pipeline, source: changeSource) }) {
                try await pipeline.run(stop: stop)
            }
            progress.finish()
            if output.json {
                try Terminal.printJSON(summary)
            } else {
                Terminal.print(summary.text)
                if summary.gaps > 0 {
                    Terminal.print("\n\(summary.gaps) gaps: records were trimmed from the stream before archiver read them; they are recorded in \(checkpoints.path) (table gaps)")
                }
                if summary.deadLettered > 0 {
                    Terminal.print("\n\(summary.deadLettered) records went to the dead-letter folder: archiver dlq list --state \(state.state)")
                }
            }
        }
    }
}
