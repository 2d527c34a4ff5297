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
}
