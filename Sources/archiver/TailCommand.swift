import ArchiverAWS
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

                With --layout batched (or `layout: batched` in the configuration file), many records share an object \
                (one gzip member each, so `gunzip -c` prints JSON lines), with an index listing each record's key \
                and byte range:

                  <archive>/YYYY/MM/DD/<HHMMSS>-<HHMMSS>.<n>r.<id>.jsonl.gz   and   _<HHMMSS>-<HHMMSS>.<id>.index.gz

                An archive keeps the layout it was made with (its _archiver-layout.json says which); ls, restore, \
                sync, lifecycle and dlq retry work the same on both. An object still open when the tail stops is \
                left for the next run, which reads its records again.

                Passes over INSERT and MODIFY; dead-letters what it cannot archive (`archiver dlq` shows them). \
                Follows the source until SIGTERM or SIGINT (then finishes what is in flight, saves the checkpoint \
                and exits 0), or, with --once, stops at the end of what is there and prints a summary. A restart \
                resumes after the checkpoint kept in the state folder.

                With deletion rules in the configuration file (--config), each archived deletion's actions (delete \
                the files it owned, abort its uploads) are queued in the transaction that saves the checkpoint, and \
                the tail runs the queue's workers while it follows (queue.run-in-tail; --no-queue leaves them to \
                `archiver queue run`). With --once it also carries out what is due before it exits.

                EXAMPLES:
                  archiver tail --source jsonl:/var/log/app/changes.jsonl --archive ./archive
                  archiver tail --source sqlite:app.db --archive ./archive --once
                  archiver tail --source dynamodb:users --archive s3://archives/users \\
                      --state /var/lib/archiver --sse aws:kms
                  archiver tail --source jsonl:feed.jsonl --archive null: --once --json
                  archiver tail --source dynamodb:uploads --config archiver.yml
                  archiver tail --source dynamodb:sessions --archive s3://archives/sessions \\
                      --layout batched --batch-flush-after 1h
                  archiver tail --source jsonl:feed.jsonl --archive ./archive \\
                      --metrics-listen 127.0.0.1:9464
                """)

        @Option(help: ArgumentHelp("The change feed: jsonl:<file>, sqlite:<db>, dynamodb:<table> or dynamodb-stream:<arn>.", valueName: "spec"))
        var source: Parsed<SourceSpec>

        @OptionGroup var archive: ConfiguredArchiveOption
        @OptionGroup var encryption: EncryptionOption
        @OptionGroup var state: StateOption
        @OptionGroup var config: ConfigOption

        @Flag(name: .customLong("no-queue"), help: "Do not carry out queued deletion actions while tailing (they wait for `archiver queue run`).")
        var noQueue = false

        @Flag(help: "Stop at the end of what the source holds now, and print a summary.")
        var once = false

        @OptionGroup var output: OutputOption

        @Option(help: "Compression level, 1 (fastest) to 12 (smallest); level 6 makes objects about 2% smaller for a third more CPU.")
        var gzipLevel = GzipEncoder.defaultLevel

        @Option(help: "Threads that parse and compress (default: one per core).")
        var workers: Int?
        @OptionGroup var limit: RecordLimitOption
        @OptionGroup var layout: LayoutOptions
        @OptionGroup var metrics: MetricsListenOption

        func validate() throws {
            _ = try source.value("--source")
            guard (1...12).contains(gzipLevel) else { throw ValidationError("--gzip-level must be 1 to 12 (\(GzipEncoder.defaultLevel) when not given)") }
            if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
            if let flag = archive.flag { _ = try encryption.encryption(for: try flag.value("--archive"), named: flag.text) }
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
            let configuration = try config.load()
            let stateFolder = state.folder(configuration)
            let (location, archiveText) = try archive.required(configuration)
            let serverSideEncryption = try encryption.encryption(for: location, named: archiveText)
            try QueueSetup.checkRoots(configuration, archive: location, stateFolder: stateFolder)
            let choice = try layout.choice(file: configuration.layout)
            options.batching = choice.limits
            // Before the checkpoint database is opened: a second writer is told who holds the folder.
            let lock = try StateFolderLock(stateFolder: stateFolder)
            defer { withExtendedLifetime(lock) {} }
            let checkpoints = try CheckpointStore(stateFolder: stateFolder)
            // Gaps the source reports go into the state folder and the summary through the pipeline.
            let changeSource = try await wiring.source(try source.value("--source"), maxRecordBytes: limit.maxRecordBytes)
            let store = try wiring.store(location, serverSideEncryption: serverSideEncryption, access: .create)
            options.layout = try await LayoutManifest.prepare(store, requested: choice.layout)
            if options.layout == .batched, choice.limits.flushAfter == nil, changeSource is DynamoDBStreamsSource {
                logger.warning(
                    "an open batched object holds the checkpoint back, and a DynamoDB stream keeps records 24 hours: if the tail stops for long while an object is open, its records may be trimmed before they are read again. Set --batch-flush-after (e.g. 1h) to bound how long an object stays open",
                    metadata: ["source": "\(changeSource.id)"])
            }
            let actions = configuration.rules.rules.isEmpty
                ? nil : DeletionActions(rules: try configuration.ruleSet(stateFolder: stateFolder), queue: configuration.queue)
            let queueProgress = QueueProgress()
            let pipeline = ArchivePipeline(
                source: changeSource,
                store: store,
                checkpoints: checkpoints,
                deadLetters: try DeadLetterFolder(stateFolder: stateFolder),
                options: options, logger: logger, actions: actions,
                progress: { summary in
                    var text = "read \(summary.read)  archived \(summary.archived)  passed over \(summary.passedOver)  dead-lettered \(summary.deadLettered)"
                    if actions != nil { text += "  " + QueueSetup.progressText(queueProgress.summary) }
                    progress.update(text)
                })
            // The queue's workers, beside the pipeline, on the same state database.
            var worker: QueueWorker?
            var workerTask: Task<QueueRunSummary, any Error>?
            let workerStop = StopSignal()
            if actions != nil && configuration.queue.runInTail && !noQueue {
                let running = try QueueSetup.worker(
                    configuration, settings: configuration.queue, queue: QueueStore(checkpoints: checkpoints), archive: (location, store),
                    stateFolder: stateFolder, maxAttempts: nil, logger: logger)
                worker = running
                workerTask = Task {
                    do {
                        return try await running.run(stop: workerStop, once: false, progress: { queueProgress.update($0) })
                    } catch {
                        logger.error("the deletion queue's workers stopped; the tail goes on archiving, and `archiver queue run` carries out the actions", metadata: ["error": "\(error)"])
                        throw error
                    }
                }
            }
            var summary: TailSummary
            do {
                let queue = actions == nil ? nil : QueueStore(checkpoints: checkpoints)
                summary = try await metrics.serving(logger: logger, refresh: {
                    await MetricsEndpoint.refreshGauges(pipeline: pipeline, source: changeSource)
                    if let queue { MetricsEndpoint.refreshQueueGauges(queue) }
                }) {
                    try await pipeline.run(stop: stop)
                }
            } catch {
                workerStop.stop()
                _ = await workerTask?.result
                throw error
            }
            if let worker, let workerTask {
                workerStop.stop()
                var done = try await workerTask.value
                if once && !stop.isStopped {
                    // Carry out what is due now, then exit.
                    done += try await worker.run(stop: stop, once: true, progress: { queueProgress.update($0) })
                }
                summary.queue = done
            }
            progress.finish()
            if output.json {
                try Terminal.printJSON(summary)
            } else {
                Terminal.print(summary.text)
                if summary.gaps > 0 {
                    Terminal.print("\n\(summary.gaps) gaps: records were trimmed from the stream before archiver read them; they are recorded in \(checkpoints.path) (table gaps)")
                }
                if let queue = summary.queue, queue.parked > 0 {
                    Terminal.print("\n\(QueueText.actions(queue.parked)) parked: archiver queue list --state parked --config \(configuration.file)")
                }
                if summary.deadLettered > 0 {
                    Terminal.print("\n\(summary.deadLettered) records went to the dead-letter folder: archiver dlq list --state \(stateFolder)")
                }
            }
        }
    }
}
