import ArchiverCore
import ArchiverServe
import ArgumentParser
import Foundation

extension Archiver {
    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Carry out and look after the deletion queue: the actions that follow archived deletions.",
            discussion: """
                When a rule of the configuration file takes an archived deletion, its actions (delete the object or \
                the prefix the item owned, abort its multipart upload) are queued in the state database, in the \
                transaction that saves the tail's checkpoint. Workers carry them out: the tail's (queue.run-in-tail) \
                or `queue run`'s, from cron. An entry is scheduled, available, executing, then completed; a failed \
                one is retryable (with exponential backoff and full jitter) until its attempts run out, then parked \
                for a person, as is one whose target would leave its root. `queue stats`, `list` and `show` look at \
                it; `retry`, `cancel` and `drop` act on ids or on everything a filter selects.

                In the queue commands --state filters entries by state; the state folder is --state-folder (or \
                ARCHIVER_STATE, or state: in the configuration file).

                EXAMPLES:
                  archiver queue run --config archiver.yml --once
                  archiver queue stats --config archiver.yml --json
                  archiver queue list --state parked --config archiver.yml
                  archiver queue retry --parked --config archiver.yml
                  archiver queue report --failed-only --config archiver.yml > failed.csv
                """,
            subcommands: [Run.self, Stats.self, ListEntries.self, Show.self, Retry.self, Cancel.self, Drop.self, Prune.self, Report.self])

        struct Run: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Carry out queued actions: until SIGTERM, or with --once until nothing is due.",
                discussion: """
                    Rescues entries whose worker died (their lease passed), makes due entries available, claims a \
                    batch, checks each target again against its root, carries the batch out (S3 deletes gathered \
                    into DeleteObjects calls of up to 1,000 keys, many in flight) and records each result. On SIGTERM \
                    or SIGINT it finishes the batch in hand and exits 0. Needs the configuration file that names the \
                    roots; kept files (keep: true) go to the archive (--archive or archive: in the file).

                    EXAMPLES:
                      archiver queue run --config archiver.yml --once
                      archiver queue run --config archiver.yml --batch-size 500 --max-attempts 5
                      */5 * * * *  archiver queue run --config /etc/archiver.yml --once --json
                      archiver queue run --config archiver.yml --metrics-listen 127.0.0.1:9464
                    """)
            @OptionGroup var config: ConfigOption
            @OptionGroup var folder: QueueFolderOption
            @OptionGroup var archive: ConfiguredArchiveOption
            @OptionGroup var encryption: EncryptionOption

            @Option(help: ArgumentHelp("Entries claimed at once (default: queue.batch-size, 100).", valueName: "n"))
            var batchSize: Int?

            @Option(help: ArgumentHelp("Attempts before an entry is parked, for the entries this run finishes (default: each entry's own, from queue.max-attempts).", valueName: "n"))
            var maxAttempts: Int?

            @Flag(help: "Stop once nothing is due (for cron), instead of waiting for more.")
            var once = false

            @OptionGroup var metrics: MetricsListenOption

            @OptionGroup var output: OutputOption

            func validate() throws {
                if let batchSize, !(1...QueueSettings.largestBatch).contains(batchSize) {
                    throw ValidationError("--batch-size must be 1 to \(QueueSettings.largestBatch)")
                }
                if let maxAttempts, !(1...1000).contains(maxAttempts) { throw ValidationError("--max-attempts must be 1 to 1000") }
                if let flag = archive.flag { _ = try encryption.encryption(for: try flag.value("--archive"), named: flag.text) }
            }

            func run() async throws {
                let logger = Terminal.logger
                metrics.bootstrap()
                let configuration = try config.load()
                guard !configuration.roots.roots.isEmpty else {
                    throw ValidationError("queue run acts on the roots of the configuration file; name it with --config or ARCHIVER_CONFIG")
                }
                let stateFolder = folder.folder(configuration)
                let queue = try QueueStore.open(stateFolder: stateFolder)
                var archiveStore: (location: ArchiveLocation, store: any ArchiveStore)?
                if let (location, text) = try archive.named(configuration) {
                    let store = try Wiring(logger: logger).store(
                        location, serverSideEncryption: try encryption.encryption(for: location, named: text), access: .existing)
                    archiveStore = (location, store)
                }
                try QueueSetup.checkRoots(configuration, archive: archiveStore?.location, stateFolder: stateFolder)
                var settings = configuration.queue
                if let batchSize { settings.batchSize = batchSize }
                let worker = try QueueSetup.worker(
                    configuration, settings: settings, queue: queue, archive: archiveStore, stateFolder: stateFolder, maxAttempts: maxAttempts,
                    logger: logger)
                let stop = StopSignal()
                let signals = Terminal.stopOnSignals(stop)
                defer { signals.forEach { $0.cancel() } }
                let progress = ProgressLine()
                let summary = try await metrics.serving(logger: logger, refresh: { MetricsEndpoint.refreshQueueGauges(queue) }) {
                    try await worker.run(stop: stop, once: once) { summary in
                        progress.update("claimed \(summary.claimed)  " + QueueSetup.progressText(summary))
                    }
                }
                progress.finish()
                // Due erasure jobs (scheduled with --at / --after, or left by a killed run) are carried out here too.
                if let archiveStore, configuration.indexesSubjects || !configuration.erasure.actions.isEmpty {
                    let erasures = ErasureStore(checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false))
                    let wiring = Wiring(logger: logger)
                    let erased = try await ErasureRunner(
                        erasures: erasures, store: archiveStore.store, eraser: wiring.eraser(archiveStore.location, store: archiveStore.store, erasure: configuration.erasure),
                        executors: try wiring.executors(roots: configuration.roots, archive: archiveStore.store, concurrency: settings.concurrency),
                        roots: configuration.roots, receipts: ReceiptBook(stateFolder: stateFolder), logger: logger,
                        events: try EraseSetup.events(configuration, stateFolder: stateFolder, logger: logger)
                    ).run(nil)
                    if !erased.jobs.isEmpty && !output.json {
                        Terminal.print("erasures carried out: \(erased.jobs.joined(separator: ", ")) (archiver erase status <job>)")
                    }
                }
                if output.json {
                    try Terminal.printJSON(summary)
                } else {
                    Terminal.print(summary.text)
                    if summary.parked > 0 {
                        Terminal.print("\n\(QueueText.actions(summary.parked)) parked: archiver queue list --state parked\(QueueText.configArgument(config))")
                    }
                }
            }
        }
    }
}

/// `--state-folder` of the queue commands (their `--state` filters entries by state).
struct QueueFolderOption: ParsableArguments {
    @Option(
        name: .customLong("state-folder"),
        help: ArgumentHelp("The state folder holding the queue. Default: ARCHIVER_STATE, then state: in the configuration file, then .archiver.", valueName: "dir"))
    var flag: String?

    func folder(_ configuration: ArchiverConfiguration) -> String {
        Setting.resolve(
            flag: flag, variable: "ARCHIVER_STATE", environment: ProcessInfo.processInfo.environment, file: configuration.state,
            fallback: ArchiverConfiguration.defaultState
        ).value
    }

    /// The queue of the folder, opened from the configuration `config` names.
    func queue(_ config: ConfigOption) throws -> QueueStore {
        try QueueStore.open(stateFolder: folder(try config.load()))
    }

    /// The erasure jobs of the folder (queued with the queue's entries: `queue run` carries them out).
    func erasures(_ config: ConfigOption) throws -> ErasureStore {
        ErasureStore(checkpoints: try CheckpointStore(stateFolder: folder(try config.load()), verify: false))
    }
}

/// `--state S…`, `--rule R`, `--parked` and ids: which entries a queue command acts on.
struct QueueFilterOption: ParsableArguments {
    @Option(name: .customLong("state"), parsing: .singleValue, help: ArgumentHelp("Only entries in this state (repeatable): scheduled, available, executing, retryable, completed, parked, cancelled, held.", valueName: "state"))
    var states: [Parsed<QueueState>] = []

    @Option(help: ArgumentHelp("Only entries of this rule.", valueName: "rule"))
    var rule: String?

    func validate() throws {
        for state in states { _ = try state.value("--state") }
    }

    /// The filter, with `ids` resolved from their prefixes.
    func filter(ids: [String] = [], extraStates: [QueueState] = [], queue: QueueStore) throws -> QueueFilter {
        QueueFilter(ids: try queue.resolve(ids), states: try states.map { try $0.value("--state") } + extraStates, rule: rule)
    }

    var isEmpty: Bool { states.isEmpty && rule == nil }
}

extension QueueState: CommandLineValue {
    init(commandLine text: String) throws {
        guard let state = QueueState(rawValue: text.lowercased()) else {
            throw ValidationError("'\(text)' is not a queue state; the states are \(QueueState.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = state
    }
}

/// An age: `30d`, `12h`, `90m`, `45s`.
struct Age: CommandLineValue, CustomStringConvertible {
    let seconds: Double
    let description: String

    init(commandLine text: String) throws {
        guard let duration = ConfigurationDuration(text) else { throw ValidationError("'\(text)' is not an age; write e.g. 30d, 12h, 90m or 45s") }
        seconds = duration.seconds
        description = text
    }
}
