import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite("Deletion rules with a batched archive: a record's actions are queued when its object is written")
struct BatchedRulesTests {
    /// The archive keys of the queue's entries, and the number of entries.
    static func queued(_ f: BatchedFixture, state: String) throws -> (keys: Set<String>, count: Int) {
        let entries = try QueueStore(checkpoints: try CheckpointStore(stateFolder: f.folder(state))).list(QueueFilter())
        return (Set(entries.map(\.archiveKey)), entries.count)
    }

    @Test func entriesFollowTheWrittenObjectsThroughAStopAndEndAsAPerRecordTailsDo() async throws {
        let f = try BatchedFixture(records: 3000, label: "batched-rules")
        defer { f.folder.remove() }
        let actions = try PipelineRulesTests.actions()
        let perRecord = try await f.tail("flat", state: "flat-state", layout: .perRecord, actions: actions)
        #expect(perRecord.actionsEnqueued == f.counts.removes)

        // Stopped with an object open: its records are archived by no written object, so none of them has an entry.
        let stop = StopSignal()
        let batches = Counter()
        let first = try await f.tail("a", state: "s", chunkSize: 8 * 1024, stop: stop, actions: actions, progress: { _ in
            if batches.increment() == 7 { stop.stop() }
        })
        #expect(try #require(first.held) > 0)
        let written = Set(try await BatchedFixture.listedKeys(try LocalArchiveStore(path: f.folder("a"), access: .readOnly)))
        let afterStop = try Self.queued(f, state: "s")
        #expect(first.actionsEnqueued == first.archived && afterStop.count == first.archived)
        #expect(afterStop.keys == written, "an entry for every record in a written object, and for no other")

        // The next run reads the held records again: every deletion ends with exactly the entries of a per-record tail.
        let second = try await f.tail("a", state: "s", chunkSize: 20_000, actions: actions)
        #expect((first.actionsEnqueued ?? 0) + (second.actionsEnqueued ?? 0) == f.counts.removes)
        let end = try Self.queued(f, state: "s")
        let flat = try Self.queued(f, state: "flat-state")
        #expect(end.count == flat.count && end.keys == flat.keys)
    }
}
