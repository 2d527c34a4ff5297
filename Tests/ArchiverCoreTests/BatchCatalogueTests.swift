import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite("Batched catalogue: the state folder names the object holding a key")
struct BatchCatalogueTests {
    @Test func everyKeyIsCataloguedInExactlyTheObjectThatHoldsIt() async throws {
        let f = try BatchedFixture(records: 3000)
        defer { f.folder.remove() }
        try await f.tail("a", state: "s")
        let store = try LocalArchiveStore(path: f.folder("a"), access: .readOnly)
        let checkpoints = try CheckpointStore(stateFolder: f.folder("s"))
        let indexes = try await BatchedFixture.indexes(store)
        #expect(indexes.count > 20, "the small limits make many objects")
        var checked = 0
        for read in indexes {
            for entry in read.index.entries {
                #expect(try checkpoints.catalogueCandidates(archive: store.location, key: entry.key) == [read.key], "\(entry.key)")
                checked += 1
            }
        }
        #expect(checked == f.counts.removes)
        #expect(try checkpoints.catalogueCandidates(archive: "/elsewhere", key: indexes[0].index.entries[0].key) == nil, "another archive is unknown")
    }

    @Test func restoreWithTheCatalogueReadsOnlyTheIndexAndTheRecordsRange() async throws {
        let f = try BatchedFixture(records: 3000)
        defer { f.folder.remove() }
        try await f.tail("a", state: "s")
        let log = RequestLog(try LocalArchiveStore(path: f.folder("a"), access: .readOnly))
        let checkpoints = try CheckpointStore(stateFolder: f.folder("s"))
        let read = try await BatchedFixture.indexes(log.inner)[7]
        let key = read.index.entries[1].key
        var restorer = ArchiveRestorer(store: log, target: CollectingTarget())
        restorer.catalogue = { try checkpoints.catalogueCandidates(archive: log.location, key: $0) }
        #expect(try await restorer.restore(key: key) == .restored)
        #expect(log.requests.count == 2 && log.requests[0] == "get \(read.key)" && log.requests[1].hasPrefix("get \(read.index.object) "), "\(log.requests)")

        // A catalogue that misses (here: the index is gone) falls back on the manifest and the listing of the day.
        log.clear()
        var stale = ArchiveRestorer(store: log, target: CollectingTarget())
        stale.catalogue = { _ in ["2024/01/15/_000000-000001.0000000000000000.index.gz"] }
        #expect(try await stale.restore(key: key) == .restored)
        #expect(log.requests.contains { $0.hasPrefix("list ") } && log.requests.contains("get \(LayoutManifest.key)"), "\(log.requests)")
    }

    @Test func aRunStoppedBeforeItsCheckpointCataloguesNoneOfTheObjectsItWrotePastIt() async throws {
        let f = try BatchedFixture(records: 3000)
        defer { f.folder.remove() }
        let local = try LocalArchiveStore(path: f.folder("a"))
        let failing = RequestLog(local)
        let puts = Counter()
        failing.failPut = { key in key.hasSuffix(".index.gz") && puts.increment() == 4 }
        await #expect(throws: ArchiveStoreError.self) { try await f.tail("a", state: "s", chunkSize: 16 * 1024, store: failing) }
        let checkpoints = try CheckpointStore(stateFolder: f.folder("s"))
        let pending = try #require(try checkpoints.batchPositions(source: "jsonl:" + f.feed)[""]?.pending)
        #expect(pending.contains { $0.hasSuffix(".index.gz") })
        let catalogued = try checkpoints.catalogued(archive: local.location)
        #expect(Set(catalogued).isDisjoint(with: pending), "an object written past the checkpoint is not in the catalogue")
        #expect(catalogued.allSatisfy { FileManager.default.fileExists(atPath: f.folder("a") + "/" + $0) })

        // The next run writes those records again and catalogues every object it wrote with its checkpoint.
        try await f.tail("a", state: "s")
        let indexes = f.folder.files(under: "a").filter { $0.hasSuffix(".index.gz") }.sorted()
        #expect(try checkpoints.catalogued(archive: local.location) == indexes)
    }

    @Test func dlqRetryIntoABatchedArchiveCataloguesTheObjectsItWrites() async throws {
        let f = try BatchedFixture(records: 1200, label: "batched-dlq-catalogue")
        defer { f.folder.remove() }
        let store = try LocalArchiveStore(path: f.folder("a"))
        let refusing = FlakyStore(store)
        refusing.rejectKeysContaining = "r."  // every data object
        _ = try await f.tail("a", state: "s", store: refusing)
        let checkpoints = try CheckpointStore(stateFolder: f.folder("s"))
        #expect(try checkpoints.catalogued(archive: store.location).isEmpty)
        var retry = DeadLetterRetry(folder: try DeadLetterFolder(stateFolder: f.folder("s")), store: store)
        retry.catalogue = checkpoints
        #expect(try await retry.run().archived == f.counts.removes)
        let indexes = try await BatchedFixture.indexes(store)
        #expect(try checkpoints.catalogued(archive: store.location) == indexes.map(\.key).sorted())
        for read in indexes {
            for entry in read.index.entries {
                #expect(try checkpoints.catalogueCandidates(archive: store.location, key: entry.key) == [read.key], "\(entry.key)")
            }
        }
        // Restore of a retried record reads its index and its range, nothing else.
        let log = RequestLog(store)
        var restorer = ArchiveRestorer(store: log, target: CollectingTarget())
        restorer.catalogue = { try checkpoints.catalogueCandidates(archive: log.location, key: $0) }
        let read = indexes[indexes.count / 2]
        #expect(try await restorer.restore(key: read.index.entries[0].key) == .restored)
        #expect(log.requests.count == 2 && log.requests[0] == "get \(read.key)", "\(log.requests)")
    }

    @Test func aRebuildFromTheIndexesGivesAnotherStateFolderTheTailsCatalogue() async throws {
        let f = try BatchedFixture(records: 3000)
        defer { f.folder.remove() }
        try await f.tail("a", state: "s")
        let store = try LocalArchiveStore(path: f.folder("a"), access: .readOnly)
        let tails = try CheckpointStore(stateFolder: f.folder("s"))
        let other = try CheckpointStore(stateFolder: f.folder("t"))
        try other.catalogue([CatalogueRow(indexKey: "2024/01/15/_000000-000001.0000000000000000.index.gz", day: "2024/01/15", first: 0, last: 1,
                                          firstSequence: nil, lastSequence: nil)], archive: store.location)
        let summary = try await CatalogueRebuild(store: store, checkpoints: other).run()
        let indexes = try await BatchedFixture.indexes(store)
        #expect(summary.objects == indexes.count && summary.removed == 1, "the row of an index not in the archive is removed")
        #expect(try other.catalogued(archive: store.location) == tails.catalogued(archive: store.location))
        for read in indexes {
            #expect(CatalogueRow(indexKey: read.key, name: read.name, index: read.index).firstSequence != nil, "the feed's sequences are numbers")
            for entry in read.index.entries {
                #expect(try other.catalogueCandidates(archive: store.location, key: entry.key) == [read.key], "\(entry.key)")
            }
        }
        // Run again: the same rows, nothing removed.
        #expect(try await CatalogueRebuild(store: store, checkpoints: other).run() == CatalogueRebuild.Summary(objects: indexes.count, removed: 0))
    }
}
