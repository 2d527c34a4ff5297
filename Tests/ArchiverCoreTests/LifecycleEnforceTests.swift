import ArchiverCore
import Foundation
import Testing

/// A store that records each delete call and can be told to fail one.
final class RecordingStore: ArchiveStore, @unchecked Sendable {
    let inner: LocalArchiveStore
    private let lock = NSLock()
    private var batches: [[String]] = []
    private let failOnCall: Int?

    init(_ inner: LocalArchiveStore, failOnCall: Int? = nil) {
        self.inner = inner
        self.failOnCall = failOnCall
    }

    var deleteBatches: [[String]] { lock.withLock { batches } }
    var location: String { inner.location }
    func put(_ objects: [ArchiveObject]) async -> [Int: ArchiveStoreError] { await inner.put(objects) }
    func get(_ key: String) async throws -> [UInt8] { try await inner.get(key) }
    func head(_ key: String) async throws -> StoredObject? { try await inner.head(key) }
    func list(prefix: String) -> AsyncThrowingStream<[StoredObject], Error> { inner.list(prefix: prefix) }
    func delete(_ keys: [String]) async throws {
        let call = lock.withLock {
            batches.append(keys)
            return batches.count
        }
        if call == failOnCall { throw ArchiveStoreError.unavailable("the disk went away") }
        try await inner.delete(keys)
    }
}

@Suite("Lifecycle enforce")
struct LifecycleEnforceTests {
    @Test("deletes exactly the expired objects; a dry run deletes nothing; a second run finds nothing")
    func deletesExactlyTheExpired() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put(lifecycleAges.map { (lifecycleKey(age: $0), lifecycleLargeSize($0)) })
        let before = try await archive.keys()
        let expired = Set([lifecycleKey(age: 2557), lifecycleKey(age: 3000)])
        let planner = LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow)

        var reported: [String] = []
        let dry = try await planner.enforce(dryRun: true) { object, rule in
            reported.append(object.key)
            #expect(rule == "archive-tiers-and-7-year-retention")
        }
        #expect(Set(reported) == expired)
        #expect(dry.dryRun)
        #expect(dry.expired == tally([2557, 3000], size: lifecycleLargeSize))
        #expect(dry.deleted == .zero)
        #expect(try await archive.keys() == before)

        let real = try await planner.enforce(dryRun: false)
        #expect(!real.dryRun)
        #expect(real.expired == tally([2557, 3000], size: lifecycleLargeSize))
        #expect(real.deleted == real.expired)
        #expect(real.scanned == tally(lifecycleAges, size: lifecycleLargeSize))
        #expect(real.rules == [.init(id: "archive-tiers-and-7-year-retention", expired: real.expired)])
        #expect(try await archive.keys() == before.filter { !expired.contains($0) })
        for key in expired { #expect(try await archive.store.head(key) == nil) }

        let again = try await planner.enforce(dryRun: false)
        #expect(again.expired == .zero)
        #expect(again.deleted == .zero)
        #expect(try await archive.keys().count == lifecycleAges.count - 2)
    }

    @Test("deletes in batches of 1000")
    func batchesOfAThousand() async throws {
        let archive = try LifecycleTestArchive()
        let count = 2_100
        await archive.put((0..<count).map { (lifecycleKey(age: 3000, item: "ITEM#\($0)"), 10) })
        await archive.put([(lifecycleKey(age: 10), 10)])
        let store = RecordingStore(archive.store)
        let result = try await LifecyclePlanner(store: store, policy: .default, now: lifecycleNow).enforce(dryRun: false)
        #expect(store.deleteBatches.map(\.count) == [1000, 1000, 100])
        #expect(result.deleted == ObjectTally(objects: count, bytes: Int64(count * 10)))
        #expect(try await archive.keys() == [lifecycleKey(age: 10)])
    }

    @Test("a dry run makes no delete call")
    func dryRunCallsNoDelete() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put([(lifecycleKey(age: 3000), 10)])
        let store = RecordingStore(archive.store)
        _ = try await LifecyclePlanner(store: store, policy: .default, now: lifecycleNow).enforce(dryRun: true)
        #expect(store.deleteBatches.isEmpty)
    }

    @Test("a store that fails part-way: the error says how much was deleted and what to do")
    func failurePartWay() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put((0..<5).map { (lifecycleKey(age: 3000, item: "ITEM#\($0)"), 10) })
        let store = RecordingStore(archive.store, failOnCall: 2)
        let planner = LifecyclePlanner(store: store, policy: .default, now: lifecycleNow, options: .init(deleteBatchSize: 2))
        let error = try await #require(throws: LifecycleEnforcementError.self) { try await planner.enforce(dryRun: false) }
        #expect(error.deletedBefore == ObjectTally(objects: 2, bytes: 20))
        #expect(error.description.contains("the disk went away"))
        #expect(error.description.contains("run `archiver lifecycle enforce` again"))
        #expect(try await archive.keys().count == 3)
    }

    @Test("an object two rules expire is deleted once, under the first rule")
    func firstRuleClaims() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put([(lifecycleKey(age: 3000), 10), (lifecycleKey(age: 100), 20)])
        let policy = LifecyclePolicy(rules: [
            LifecycleRule(id: "year-old", expiration: LifecycleExpiration(days: 365)),
            LifecycleRule(id: "month-old", expiration: LifecycleExpiration(days: 30)),
            LifecycleRule(id: "no-expiry", transitions: [LifecycleTransition(days: 0, storageClass: .glacier)]),
        ])
        try policy.validate()
        let result = try await LifecyclePlanner(store: archive.store, policy: policy, now: lifecycleNow).enforce(dryRun: false)
        #expect(result.rules == [
            .init(id: "year-old", expired: ObjectTally(objects: 1, bytes: 10)),
            .init(id: "month-old", expired: ObjectTally(objects: 1, bytes: 20)),
        ])
        #expect(result.deleted == ObjectTally(objects: 2, bytes: 30))
        #expect(try await archive.keys().isEmpty)
    }

    @Test("a policy without expiry deletes nothing and does not list the archive")
    func noExpiry() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put([(lifecycleKey(age: 3000), 10)])
        let policy = LifecyclePolicy(rules: [LifecycleRule(id: "t", transitions: [LifecycleTransition(days: 0, storageClass: .glacier)])])
        let result = try await LifecyclePlanner(store: archive.store, policy: policy, now: lifecycleNow).enforce(dryRun: false)
        #expect(result.rules.isEmpty)
        #expect(result.deleted == .zero)
        #expect(try await archive.keys().count == 1)
        #expect(result.textLines.contains { $0.contains("no enabled rule has an expiration") })
    }

    @Test("text output")
    func text() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put([(lifecycleKey(age: 3000), 2048)])
        let planner = LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow)
        let dry = try await planner.enforce(dryRun: true).textLines
        #expect(dry[0] == "Lifecycle dry run for \(archive.store.location) on 2024-06-01 (UTC)")
        #expect(dry.contains { $0.contains("would delete (expired)") && $0.hasSuffix("1  2.0 KiB") })
        let real = try await planner.enforce(dryRun: false).textLines
        #expect(real.contains { $0.contains("deleted (expired)") && $0.hasSuffix("1  2.0 KiB") })
    }
}
