import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite("Batched archives read like per-record ones: ls, restore, sync, dlq retry, lifecycle")
struct BatchedReaderTests {
    /// The same feed archived per-record (`p`) and batched (`b`).
    static func archives(records: Int = 2000) async throws -> BatchedFixture {
        let f = try BatchedFixture(records: records, label: "batched-read")
        try await f.tail("p", state: "sp", layout: .perRecord)
        try await f.tail("b", state: "sb")
        return f
    }

    static func listing(_ store: any ArchiveStore, _ filter: ListingFilter) async throws -> [ListedDeletion] {
        var all: [ListedDeletion] = []
        for try await page in listDeletions(in: store, filter: filter) { all += page }
        return all.sorted { $0.key < $1.key }
    }

    @Test func lsListsTheSameKeysItemsKindsTimesAndSizes() async throws {
        let f = try await Self.archives()
        defer { f.folder.remove() }
        let p = try LocalArchiveStore(path: f.folder("p"), access: .readOnly)
        let b = try LocalArchiveStore(path: f.folder("b"), access: .readOnly)
        let all = try await Self.listing(b, ListingFilter())
        #expect(all.count == f.counts.removes)
        #expect(all == (try await Self.listing(p, ListingFilter())), "sizes too: a member is the per-record object")
        for filter in [try ListingFilter(date: "2024-01-15"), try ListingFilter(kind: .ttl), try ListingFilter(item: "USER#7_*"),
                       try ListingFilter(month: "2024-01", item: "USER#46_ITEM#1046/y")] {
            let listed = try await Self.listing(b, filter)
            #expect(!listed.isEmpty)
            #expect(listed == (try await Self.listing(p, filter)))
        }
    }

    @Test func restoreByKeyReadsOneIndexAndOneRangeAndPrefixReadsEachObjectOnce() async throws {
        let f = try await Self.archives()
        defer { f.folder.remove() }
        let log = RequestLog(try LocalArchiveStore(path: f.folder("b"), access: .readOnly))
        let wanted = try #require(try await Self.listing(log, ListingFilter(kind: .ttl)).dropFirst(100).first)
        log.clear()
        let target = CollectingTarget()
        #expect(try await ArchiveRestorer(store: log, target: target).restore(key: wanted.key) == .restored)
        let item = try #require(target.items.first)
        let perRecord = try ArchiveRestorer.item(fromArchived: Array(try Data(contentsOf: URL(fileURLWithPath: f.folder("p/" + wanted.key)))), key: wanted.key)
        #expect(item.item == perRecord.item && item.archiveKey == wanted.key)
        let reads = log.requests.filter { $0.hasPrefix("get ") && !$0.contains(LayoutManifest.key) }
        #expect(reads.count == 2, "one index and one range: \(log.requests)")
        #expect(reads.last?.hasSuffix("..<\(try #require(reads.last?.split(separator: "<").last))") == true && reads.last?.contains(".jsonl.gz ") == true)
        #expect(log.requests.filter { $0.hasPrefix("list ") } == ["list \(wanted.key.prefix(11))_"], "one listing, of the day's indexes")

        let missing = String(wanted.key.dropLast(".ttl.json.gz".count)) + "9.ttl.json.gz"
        let error = await #expect(throws: RestoreError.self) { try await ArchiveRestorer(store: log, target: target).restore(key: missing) }
        #expect(error?.kind == .noObject)

        log.clear()
        let all = CollectingTarget()
        let summary = try await ArchiveRestorer(store: log, target: all).restore(prefix: "2024/01/16")
        let day = try await Self.listing(log, ListingFilter(date: "2024-01-16"))
        #expect(summary.total == day.count && summary.restored == day.count && summary.failed == 0)
        #expect(Set(all.items.map(\.archiveKey)) == Set(day.map(\.key)))
        let objectReads = log.requests.filter { $0.hasPrefix("get ") && $0.hasSuffix(".jsonl.gz") }
        #expect(objectReads.count == Set(objectReads).count, "each object is read once")
    }

    @Test func syncCopiesObjectsIndexesAndTheManifestAndItsJSONLinesMatchAPerRecordArchives() async throws {
        let f = try await Self.archives(records: 2500)
        defer { f.folder.remove() }
        let p = try LocalArchiveStore(path: f.folder("p"), access: .readOnly)
        let b = try LocalArchiveStore(path: f.folder("b"), access: .readOnly)
        let fromP = try await ArchiveSync(source: p, destination: try LocalArchiveStore(path: f.folder("sync-p"))).run(month: "2024-01", jsonl: f.folder("p.jsonl"))
        let fromB = try await ArchiveSync(source: b, destination: try LocalArchiveStore(path: f.folder("sync-b"))).run(month: "2024-01", jsonl: f.folder("b.jsonl"))
        #expect(fromB.jsonlRecords == fromP.jsonlRecords && fromB.jsonlRecords == f.counts.removes)
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.folder("b.jsonl"))) == Data(contentsOf: URL(fileURLWithPath: f.folder("p.jsonl"))),
                "the records of the month, one a line in key order, whatever the layout")
        let copied = try f.tree("sync-b")
        let source = try f.tree("b")
        #expect(copied == source, "every object, index and the manifest, byte for byte")
        #expect(copied[LayoutManifest.key] != nil)
        let again = try await ArchiveSync(source: b, destination: try LocalArchiveStore(path: f.folder("sync-b"))).run(month: "2024-01")
        #expect(again.copied == 0 && again.skipped == again.objects, "a second sync finds everything there")
        #expect(try await LayoutManifest.layout(of: try LocalArchiveStore(path: f.folder("sync-b"), access: .readOnly)) == .batched)
        // A folder holding per-record objects takes no batched month, and a batched one no per-record month.
        let intoPerRecord = await #expect(throws: LayoutError.self) {
            try await ArchiveSync(source: b, destination: try LocalArchiveStore(path: f.folder("sync-p"))).run(month: "2024-01")
        }
        #expect(intoPerRecord?.kind == .mismatch)
        #expect(try await LayoutManifest.read(try LocalArchiveStore(path: f.folder("sync-p"), access: .readOnly)) == nil)
        await #expect(throws: LayoutError.self) {
            try await ArchiveSync(source: p, destination: try LocalArchiveStore(path: f.folder("sync-b"))).run(month: "2024-01")
        }
    }

    @Test func dlqRetryWritesBatchedObjectsIntoABatchedArchive() async throws {
        let f = try BatchedFixture(records: 1200, label: "batched-dlq")
        defer { f.folder.remove() }
        let store = try LocalArchiveStore(path: f.folder("a"))
        let refusing = FlakyStore(store)
        refusing.rejectKeysContaining = "r."  // every data object
        let first = try await f.tail("a", state: "s", store: refusing)
        #expect(first.archived == 0 && first.deadLettered == f.counts.removes + f.counts.malformed + f.counts.removesWithoutImage)
        let folder = try DeadLetterFolder(stateFolder: f.folder("s"))
        let summary = try await DeadLetterRetry(folder: folder, store: store).run()
        #expect(summary.archived == f.counts.removes)
        let keys = try await BatchedFixture.listedKeys(store)
        #expect(keys.count == f.counts.removes && Set(keys).count == keys.count)
        #expect(f.folder.files(under: "a").allSatisfy { BatchedObjectName.isBatched($0) || $0 == LayoutManifest.key }, "no per-record object in a batched archive")
    }

    @Test func lifecycleAgesBatchedObjectsByTheirLatestRecordAndDeletesAnIndexBeforeItsObject() async throws {
        let f = try await Self.archives(records: 1500)
        defer { f.folder.remove() }
        let log = RequestLog(try LocalArchiveStore(path: f.folder("b"), access: .existing))
        let policy = try LifecyclePolicy.decode(Array(#"{"Rules":[{"ID":"short","Status":"Enabled","Filter":{},"Expiration":{"Days":1}}]}"#.utf8))
        // 2024-01-17: only the objects of the 15th (their latest record on the 15th) are past a day.
        let now = Date(timeIntervalSince1970: 1_705_449_600 + 3600)
        let result = try await LifecyclePlanner(store: log, policy: policy, now: now).enforce(dryRun: false)
        let deleted = log.requests.filter { $0.hasPrefix("delete ") }.map { String($0.dropFirst(7)) }
        #expect(!deleted.isEmpty && deleted.allSatisfy { $0.hasPrefix("2024/01/15/") })
        #expect(result.deleted.objects == deleted.count)
        for key in deleted where BatchedObjectName(dataKey: key) != nil {
            let index = try #require(BatchedObjectName(dataKey: key)).indexKey
            let indexAt = try #require(deleted.firstIndex(of: index))
            #expect(indexAt < deleted.firstIndex(of: key)!, "\(key) was deleted before its index")
        }
        #expect(f.folder.files(under: "b").allSatisfy { !$0.hasPrefix("2024/01/15/") })
        let left = try await BatchedFixture.listedKeys(try LocalArchiveStore(path: f.folder("b"), access: .readOnly))
        #expect(!left.isEmpty && left.allSatisfy { !$0.hasPrefix("2024/01/15/") })
    }
}

