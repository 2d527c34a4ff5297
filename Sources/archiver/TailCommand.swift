import ArchiverAWS
import ArchiverCore
import ArgumentParser
import Foundation
import Logging

extension Archiver {
    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive the deletions of a change feed.",
            discussion: """
                Reads the source in order; archives every REMOVE (manual deletes and TTL expiries) as
                <archive>/YYYY/MM/DD/<item key>.<HHMMSS>.<sequence>.<manual|ttl>.json.gz; passes over
                INSERT and MODIFY; dead-letters what it cannot archive. Follows the source until SIGTERM
                or SIGINT (then finishes what is in flight, saves the checkpoint and exits 0), or, with
                --once, stops at the end of what is there and prints a summary.
                """)

        @Option(help: ArgumentHelp("The change feed: jsonl:<file>, sqlite:<db>, dynamodb:<table> or dynamodb-stream:<arn>.", valueName: "spec"))
        var source: String

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

        func validate() throws {
            do { _ = try SourceSpec(source) } catch { throw ValidationError("--source: \(error)") }
            guard (1...12).contains(gzipLevel) else { throw ValidationError("--gzip-level must be 1 to 12 (\(GzipEncoder.defaultLevel) when not given)") }
            if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
            _ = try encryption.encryption(for: archive.archive)
        }

        func run() async throws {
            let logger = Terminal.logger
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
            var changeSource = try await wiring.source(try SourceSpec(source), maxRecordBytes: limit.maxRecordBytes)
            let gaps = GapCount()
            if var streams = changeSource as? DynamoDBStreamsSource {
                // Records trimmed from a shard before they were read are written down as gaps.
                let sourceID = streams.id
                streams.onGap = { partition, detail in
                    gaps.add()
                    do {
                        try checkpoints.recordGap(source: sourceID, partition: partition, detail: detail)
                    } catch {
                        logger.error("could not record a gap in the state folder: \(error)", metadata: ["source": "\(sourceID)", "partition": "\(partition)"])
                    }
                }
                changeSource = streams
            }
            let pipeline = ArchivePipeline(
                source: changeSource,
                store: try wiring.store(
                    try ArchiveLocation(archive.archive), serverSideEncryption: try encryption.encryption(for: archive.archive), access: .create),
                checkpoints: checkpoints,
                deadLetters: try DeadLetterFolder(stateFolder: state.state),
                options: options, logger: logger,
                progress: { summary in
                    progress.update("read \(summary.read)  archived \(summary.archived)  passed over \(summary.passedOver)  dead-lettered \(summary.deadLettered)")
                })
            var summary = try await pipeline.run(stop: stop)
            summary.gaps = gaps.value
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

/// Gaps noticed during a run, counted from the source's callback.
private final class GapCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
