import ArchiverCore
import Foundation
import Testing
import TestSupport

/// A store double for testing the pipeline above the store: fails as told, then behaves.
final class FlakyStore: ArchiveStore, @unchecked Sendable {
    let inner: LocalArchiveStore
    private let lock = NSLock()
    var unavailableCalls: Int
    var rejectKeysContaining: String?
    var failAll = false
    private(set) var calls = 0

    init(_ inner: LocalArchiveStore, unavailableCalls: Int = 0) {
        self.inner = inner
        self.unavailableCalls = unavailableCalls
    }

    var location: String { inner.location }

    func put(_ objects: [ArchiveObject]) async -> [Int: ArchiveStoreError] {
        let (unavailable, failing): (Bool, Bool) = lock.withLock {
            calls += 1
            if unavailableCalls > 0 {
                unavailableCalls -= 1
                return (true, false)
            }
            return (false, failAll)
        }
        if failing { return Dictionary(uniqueKeysWithValues: objects.indices.map { ($0, .failed("disk full at /x")) }) }
        if unavailable { return Dictionary(uniqueKeysWithValues: objects.indices.map { ($0, .unavailable("503 SlowDown")) }) }
        var failures: [Int: ArchiveStoreError] = [:]
        var keep: [(Int, ArchiveObject)] = []
        for (i, object) in objects.enumerated() {
            if let needle = rejectKeysContaining, object.key.contains(needle) { failures[i] = .rejected("KeyTooLong") } else { keep.append((i, object)) }
        }
        let innerFailures = await inner.put(keep.map(\.1))
        for (j, error) in innerFailures { failures[keep[j].0] = error }
        return failures
    }

    func get(_ key: String) async throws -> [UInt8] { try await inner.get(key) }
    func head(_ key: String) async throws -> StoredObject? { try await inner.head(key) }
    func list(prefix: String) -> AsyncThrowingStream<[StoredObject], Error> { inner.list(prefix: prefix) }
    func delete(_ keys: [String]) async throws { try await inner.delete(keys) }
}

@Suite struct PipelineTests {
    struct Setup {
        let folder = TemporaryFolder("pipeline")
        let counts: SampleFeed.Counts
        let source: JSONLinesSource
        let checkpoints: CheckpointStore
        let deadLetters: DeadLetterFolder
        let archive: LocalArchiveStore

        init(records: Int = 2000) throws {
            counts = try SampleFeed.write(0..<records, to: folder("feed.jsonl"))
            source = JSONLinesSource(path: folder("feed.jsonl"), chunkSize: 64 * 1024)
            checkpoints = try CheckpointStore(stateFolder: folder("state"))
            deadLetters = try DeadLetterFolder(stateFolder: folder("state"))
            archive = try LocalArchiveStore(path: folder("archive"))
        }

        func pipeline(_ store: any ArchiveStore, options: TailOptions = TailOptions(maximumBackoff: 0.01)) -> ArchivePipeline {
            ArchivePipeline(source: source, store: store, checkpoints: checkpoints, deadLetters: deadLetters, options: options)
        }
    }

    @Test func everyRecordEndsInExactlyOneOutcome() async throws {
        let setup = try Setup()
        defer { setup.folder.remove() }
        let summary = try await setup.pipeline(setup.archive).run(stop: StopSignal())
        let c = setup.counts
        #expect(summary.read == c.total)
        #expect(summary.archived + summary.passedOver + summary.deadLettered == summary.read)
        #expect(summary.archivedManual == c.removesManual)
        #expect(summary.archivedTTL == c.removesTTL)
        #expect(summary.passedOver == c.inserts + c.modifies)
        #expect(summary.deadLettered == c.malformed + c.removesWithoutImage)
        #expect(setup.folder.files(under: "archive").filter { !$0.hasPrefix(".") }.count == c.removes)
        let letters = try await setup.deadLetters.entries()
        #expect(letters.count == summary.deadLettered)
        #expect(Set(letters.map(\.code)) == ["malformed-json", "no-old-image"])
        // A second run starts after the checkpoint: nothing more to do.
        let again = try await setup.pipeline(setup.archive).run(stop: StopSignal())
        #expect(again.read == 0)
    }

    @Test func anUnavailableStoreIsWaitedOutNotDropped() async throws {
        let setup = try Setup(records: 300)
        defer { setup.folder.remove() }
        let store = FlakyStore(setup.archive, unavailableCalls: 4)
        let summary = try await setup.pipeline(store).run(stop: StopSignal())
        #expect(summary.archived == setup.counts.removes)
        #expect(summary.deadLettered == setup.counts.malformed + setup.counts.removesWithoutImage)
        #expect(store.calls >= 5)
    }

    @Test func objectsTheStoreKeepsRefusingAreDeadLettered() async throws {
        let setup = try Setup(records: 300)
        defer { setup.folder.remove() }
        let store = FlakyStore(setup.archive)
        store.rejectKeysContaining = "USER#16_"
        let summary = try await setup.pipeline(store).run(stop: StopSignal())
        let refused = try await setup.deadLetters.entries().filter { $0.code == "write-failed" }
        #expect(!refused.isEmpty)
        #expect(summary.archived + refused.count == setup.counts.removes)
        #expect(refused.allSatisfy { $0.reason.contains("KeyTooLong") && !$0.raw.isEmpty })
    }

    @Test func aStoreNeedingAttentionStopsWithoutMovingTheCheckpoint() async throws {
        let setup = try Setup(records: 300)
        defer { setup.folder.remove() }
        let store = FlakyStore(setup.archive)
        store.failAll = true
        await #expect(throws: ArchiveStoreError.self) { _ = try await setup.pipeline(store).run(stop: StopSignal()) }
        #expect(try setup.checkpoints.checkpoints(source: setup.source.id).isEmpty)
        // Once fixed, the next run archives everything.
        store.failAll = false
        let summary = try await setup.pipeline(store).run(stop: StopSignal())
        #expect(summary.archived == setup.counts.removes)
    }

    @Test func stoppingFinishesInFlightWorkAndSavesTheCheckpoint() async throws {
        let setup = try Setup(records: 4000)
        defer { setup.folder.remove() }
        let stop = StopSignal()
        stop.stop()
        let summary = try await setup.pipeline(setup.archive, options: TailOptions(follow: true)).run(stop: stop)
        // Whatever was read was finished and checkpointed; the rest comes next time, nothing twice.
        let rest = try await setup.pipeline(setup.archive).run(stop: StopSignal())
        #expect(summary.read + rest.read == setup.counts.total)
    }
}
