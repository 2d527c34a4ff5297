import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite("Batched tail: deterministic cuts, the held-back checkpoint, stops and failed runs")
struct BatchedPipelineTests {
    @Test func cutPointsDependOnTheRecordsNotOnTheReadBatches() async throws {
        let f = try BatchedFixture(records: 3000)
        defer { f.folder.remove() }
        try await f.tail("a", state: "s1", chunkSize: 1 << 20, workers: 4)
        try await f.tail("b", state: "s2", chunkSize: 3000, workers: 1)
        try await f.tail("c", state: "s3", chunkSize: 17_000, workers: 3)
        let a = try f.tree("a")
        #expect(a.count > 40, "the small limits make many objects (\(a.count) files)")
        #expect(try f.tree("b") == a)
        #expect(try f.tree("c") == a)
    }

    @Test func aStoppedTailHoldsItsOpenObjectBackAndTheNextRunWritesTheSameArchive() async throws {
        let f = try BatchedFixture(records: 3000)
        defer { f.folder.remove() }
        try await f.tail("clean", state: "clean-state", chunkSize: 64 * 1024)

        // Stopped after a few read batches, like a SIGTERM'd tail: what is open stays open.
        let stop = StopSignal()
        let batches = Counter()
        let first = try await f.tail("a", state: "s", chunkSize: 8 * 1024, stop: stop, progress: { _ in
            if batches.increment() == 7 { stop.stop() }
        })
        let held = try #require(first.held)
        #expect(held > 0, "the stop found an object open")
        #expect(first.read == first.archived + first.passedOver + first.deadLettered + held)
        let checkpoints = try CheckpointStore(stateFolder: f.folder("s"))
        let position = try #require(try checkpoints.batchPositions(source: "jsonl:" + f.feed)[""])
        #expect(position.skip > 0 && position.pending.isEmpty, "the checkpoint stands before the open object, with records to skip: \(position)")
        let keys = try await BatchedFixture.listedKeys(try LocalArchiveStore(path: f.folder("a"), access: .readOnly))
        #expect(!keys.isEmpty && keys.count == first.archived)

        // The next run reads with other batch sizes, reads the open object's records again, and ends like the clean run.
        let second = try await f.tail("a", state: "s", chunkSize: 20_000)
        #expect(second.held == 0)
        #expect(first.archived + second.archived == f.counts.removes, "no record archived twice, none lost")
        #expect(try f.tree("a") == f.tree("clean"))
        #expect(try checkpoints.batchPositions(source: "jsonl:" + f.feed).isEmpty, "at the end of the input nothing is held")
    }

    @Test func aRunStoppedBetweenAnObjectAndItsCheckpointLeavesNoRecordTwiceWhateverTheNextRunCuts() async throws {
        let f = try BatchedFixture(records: 3000)
        defer { f.folder.remove() }
        let local = try LocalArchiveStore(path: f.folder("a"))
        // The 4th index written fails as a disk that fills up would: the run stops with objects written past the checkpoint.
        let failing = RequestLog(local)
        let puts = Counter()
        failing.failPut = { key in key.hasSuffix(".index.gz") && puts.increment() == 4 }
        await #expect(throws: ArchiveStoreError.self) { try await f.tail("a", state: "s", chunkSize: 16 * 1024, store: failing) }
        let checkpoints = try CheckpointStore(stateFolder: f.folder("s"))
        let pending = try #require(try checkpoints.batchPositions(source: "jsonl:" + f.feed)[""]?.pending)
        #expect(!pending.isEmpty, "the objects being written are noted in the state folder first")
        #expect(try await local.head(pending.first { $0.hasSuffix(".jsonl.gz") }!) != nil, "the stop came after an object was written")

        // The next run has other limits, so it cuts elsewhere: the noted objects go, and every record is listed once.
        var other = BatchedFixture.small
        other.maxRecords = 17
        let log = RequestLog(local)
        try await f.tail("a", state: "s", limits: other, store: log)
        #expect(log.requests.contains("delete \(pending.first { $0.hasSuffix(".index.gz") }!)"))
        let keys = try await BatchedFixture.listedKeys(local)
        #expect(keys.count == f.counts.removes)
        #expect(Set(keys).count == keys.count, "a record is listed twice")
        let dataObjects = f.folder.files(under: "a").filter { $0.hasSuffix(".jsonl.gz") }
        let indexed = try await BatchedFixture.indexes(local).map(\.index.object)
        #expect(Set(dataObjects) == Set(indexed), "every object has its index and every index its object")
        #expect(try checkpoints.batchPositions(source: "jsonl:" + f.feed).isEmpty)
    }

    @Test func flushAfterWritesAnObjectAnIdleFollowingTailHolds() async throws {
        let f = try BatchedFixture(records: 700)
        defer { f.folder.remove() }
        let store = try LocalArchiveStore(path: f.folder("a"))
        var options = TailOptions(follow: true, maximumBackoff: 0.01)
        options.layout = try await LayoutManifest.prepare(store, requested: .batched)
        options.batching = BatchedFixture.small
        options.batching.flushAfter = 1
        let stop = StopSignal()
        let watchdog = Task {
            // Only if the flush never comes: a stop leaves the open object held, which the test then reports.
            try await Task.sleep(for: .seconds(120))
            stop.stop()
        }
        defer { watchdog.cancel() }
        let removes = f.counts.removes
        let pipeline = ArchivePipeline(
            source: JSONLinesSource(path: f.feed), store: store, checkpoints: try CheckpointStore(stateFolder: f.folder("s")),
            deadLetters: try DeadLetterFolder(stateFolder: f.folder("s")), options: options,
            progress: { summary in if summary.archived == removes { stop.stop() } })
        let summary = try await pipeline.run(stop: stop)
        #expect(summary.archived == removes && summary.held == 0, "the last object was written while the source was idle")
        #expect(try CheckpointStore(stateFolder: f.folder("s")).batchPositions(source: "jsonl:" + f.feed).isEmpty, "the checkpoint is at the end")
    }

    @Test func anObjectTheStoreRefusesHasItsRecordsDeadLettered() async throws {
        let f = try BatchedFixture(records: 1500)
        defer { f.folder.remove() }
        try await f.tail("clean", state: "clean-state")
        let victim = try #require(f.folder.files(under: "clean").first { $0.hasSuffix(".jsonl.gz") })
        let refusing = FlakyStore(try LocalArchiveStore(path: f.folder("a")))
        refusing.rejectKeysContaining = String(victim.split(separator: "/").last!)
        let summary = try await f.tail("a", state: "s", store: refusing)
        let records = try #require(BatchedObjectName(dataKey: victim)).records
        #expect(summary.archived == f.counts.removes - records)
        #expect(summary.read == summary.archived + summary.passedOver + summary.deadLettered)
        let letters = try await DeadLetterFolder(stateFolder: f.folder("s")).scan().entries.filter { $0.code == "write-failed" }
        #expect(letters.count == records)
        #expect(letters.allSatisfy { $0.position.hasPrefix("line ") && $0.reason.contains(victim) })
        #expect(letters.allSatisfy { (try? RecordScanner().scan($0.raw).eventName) == .remove }, "a dead letter holds the record itself")
    }
}

/// A thread-safe count.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    /// Adds one; returns the new count.
    func increment() -> Int { lock.withLock { value += 1; return value } }
}
