import ArchiverCore
import Foundation
import Testing

/// A fresh archive folder for one test, removed afterwards.
final class LifecycleTestArchive {
    let path: String
    let store: LocalArchiveStore

    init() throws {
        path = NSTemporaryDirectory() + "archiver-lifecycle-" + UUID().uuidString
        store = try LocalArchiveStore(path: path)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes objects, failing the test if any is not written.
    func put(_ objects: [(key: String, size: Int)]) async {
        let failures = await store.put(objects.map { ArchiveObject(key: $0.key, body: Array(repeating: 0x1F, count: $0.size)) })
        #expect(failures.isEmpty, "could not write: \(failures)")
    }

    /// Every key, in order.
    func keys() async throws -> [String] {
        var keys: [String] = []
        for try await page in store.list(prefix: "") { keys += page.map(\.key) }
        return keys
    }

    /// Sets a file's modification time.
    func setModified(_ key: String, to date: Date) throws {
        try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path + "/" + key)
    }
}

/// The day the tests plan for, and a moment in its afternoon (only the day matters).
let lifecycleToday = try! LifecycleDay(parsing: "2024-06-01")
let lifecycleNow = Date(timeIntervalSince1970: TimeInterval(lifecycleToday.startSeconds + 15 * 3600 + 30 * 60))

/// An archive key for a deletion `age` whole days old at 00:00 UTC of `today` (deleted at noon the day before
/// that many days back, which is how S3's round-up-to-midnight counts it).
func lifecycleKey(age: Int, item: String = "USER#1_PROFILE", today: LifecycleDay = lifecycleToday, secondsBeforeMidnight: Int64 = 12 * 3600) -> String {
    let time = DeletionTime(epochSeconds: today.startSeconds - Int64(age) * 86_400 - secondsBeforeMidnight)!
    let key = "\(time.datePath)/\(item).\(time.compactTime).\(1_100_000_000_000 + age).manual.json.gz"
    precondition(ArchiveKey(path: key)?.time == time)
    return key
}

/// The ages the brief names, around each boundary of the default policy (90, 365, 2557 days).
let lifecycleAges = [10, 89, 90, 364, 365, 2556, 2557, 3000]
/// Large enough for S3 to move (128 KB and up), and different for each age so byte sums are checked.
func lifecycleLargeSize(_ age: Int) -> Int { 131_072 + age }

func tally(_ ages: [Int], size: (Int) -> Int) -> ObjectTally {
    ObjectTally(objects: ages.count, bytes: Int64(ages.map(size).reduce(0, +)))
}

func tier(_ plan: LifecycleRulePlan, _ storageClass: StorageClass) -> ObjectTally? {
    plan.tiers.first { $0.storageClass == storageClass }?.objects
}

func move(_ plan: LifecycleRulePlan, _ storageClass: StorageClass) -> ObjectTally? {
    plan.movesToday.first { $0.storageClass == storageClass }?.today
}

@Suite("Lifecycle plan")
struct LifecyclePlannerTests {
    @Test("counts each tier, today's moves and expiries around every boundary, with bytes")
    func tiersMovesAndExpiries() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put(lifecycleAges.map { (lifecycleKey(age: $0), lifecycleLargeSize($0)) })

        let plan = try await LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow).plan()

        #expect(plan.today == lifecycleToday)
        #expect(plan.scanned == tally(lifecycleAges, size: lifecycleLargeSize))
        #expect(plan.unmatched == .zero)
        #expect(plan.undated == .zero)
        #expect(plan.storageClasses == false)
        let rule = try #require(plan.rules.first)
        #expect(plan.rules.count == 1)
        #expect(rule.id == "archive-tiers-and-7-year-retention")
        #expect(rule.matched == tally(lifecycleAges, size: lifecycleLargeSize))
        #expect(rule.tiers.map(\.storageClass) == [.standard, .standardIA, .glacier])
        #expect(rule.tiers.map(\.fromDays) == [0, 90, 365])
        #expect(tier(rule, .standard) == tally([10, 89], size: lifecycleLargeSize))
        #expect(tier(rule, .standardIA) == tally([90, 364], size: lifecycleLargeSize))
        #expect(tier(rule, .glacier) == tally([365, 2556], size: lifecycleLargeSize))
        #expect(move(rule, .standardIA) == tally([90], size: lifecycleLargeSize))
        #expect(move(rule, .glacier) == tally([365], size: lifecycleLargeSize))
        #expect(rule.heldBySize == .zero)
        let expiry = try #require(rule.expiration)
        #expect(expiry.days == 2557)
        #expect(expiry.due == tally([2557, 3000], size: lifecycleLargeSize))
        #expect(expiry.dueToday == tally([2557], size: lifecycleLargeSize))
    }

    @Test("only the UTC day of now matters")
    func onlyTheDayMatters() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put(lifecycleAges.map { (lifecycleKey(age: $0), lifecycleLargeSize($0)) })
        let early = try await LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleToday.start).plan()
        let late = try await LifecyclePlanner(
            store: archive.store, policy: .default, now: lifecycleToday.start.addingTimeInterval(86_399)).plan()
        #expect(early == late)
        let tomorrow = try await LifecyclePlanner(
            store: archive.store, policy: .default, now: lifecycleToday.start.addingTimeInterval(86_400)).plan()
        #expect(tomorrow.rules[0].expiration?.due == tally([2556, 2557, 3000], size: lifecycleLargeSize))
        #expect(move(tomorrow.rules[0], .standardIA) == tally([89], size: lifecycleLargeSize))
    }

    @Test("an action of N days is due from the first midnight UTC at or after creation + N days, as S3 counts")
    func roundsUpToMidnightAsS3Does() async throws {
        let archive = try LifecycleTestArchive()
        // Deleted on 2024-03-03, 90 calendar days before 2024-06-01: at midnight exactly, one second after, and at 23:59:59.
        let atMidnight = lifecycleKey(age: 90, item: "A", secondsBeforeMidnight: 0)
        let justAfter = lifecycleKey(age: 89, item: "B", secondsBeforeMidnight: 86_399)
        let lateThatDay = lifecycleKey(age: 89, item: "C", secondsBeforeMidnight: 1)
        #expect(atMidnight.hasPrefix("2024/03/03/A.000000."))
        #expect(justAfter.hasPrefix("2024/03/03/B.000001."))
        #expect(lateThatDay.hasPrefix("2024/03/03/C.235959."))
        await archive.put([(atMidnight, 200_000), (justAfter, 200_001), (lateThatDay, 200_002)])

        let rule = try await LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow).plan().rules[0]
        #expect(move(rule, .standardIA) == ObjectTally(objects: 1, bytes: 200_000))
        #expect(tier(rule, .standard) == ObjectTally(objects: 2, bytes: 400_003))
        #expect(lifecycleToday.age(ofObjectCreatedAt: ArchiveKey(path: justAfter)!.time.epochSeconds) == 89)
        #expect(LifecycleDay.due(days: 90, afterCreation: ArchiveKey(path: justAfter)!.time.epochSeconds) == lifecycleToday.adding(days: 1))
    }

    @Test("objects under 128 KB stay where they are under S3's default; Glacier takes them under varies_by_storage_class")
    func smallObjectsAreHeldBySize() async throws {
        let archive = try LifecycleTestArchive()
        let small = { (age: Int) in 400 + age }
        await archive.put(lifecycleAges.map { (lifecycleKey(age: $0), small($0)) })

        let held = try await LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow).plan().rules[0]
        #expect(tier(held, .standard) == tally([10, 89, 90, 364, 365, 2556], size: small))
        #expect(tier(held, .standardIA) == .zero)
        #expect(tier(held, .glacier) == .zero)
        #expect(move(held, .standardIA) == .zero)
        #expect(move(held, .glacier) == .zero)
        #expect(held.heldBySize == tally([90, 364, 365, 2556], size: small))
        #expect(held.expiration?.due == tally([2557, 3000], size: small))

        let varies = LifecyclePlanner.Options(transitionMinimumObjectSize: .variesByStorageClass)
        let glacier = try await LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow, options: varies).plan().rules[0]
        #expect(tier(glacier, .standard) == tally([10, 89, 90, 364], size: small))
        #expect(tier(glacier, .glacier) == tally([365, 2556], size: small))
        #expect(move(glacier, .glacier) == tally([365], size: small))
        #expect(glacier.heldBySize == tally([90, 364], size: small))
    }

    @Test("a size filter replaces S3's default minimum size")
    func sizeFilterReplacesTheDefaultMinimum() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put([(lifecycleKey(age: 100, item: "A"), 10), (lifecycleKey(age: 100, item: "B"), 1000)])
        let policy = LifecyclePolicy(rules: [
            LifecycleRule(id: "small", filter: LifecycleFilter(objectSizeGreaterThan: 100), transitions: [LifecycleTransition(days: 30, storageClass: .standardIA)])
        ])
        try policy.validate()
        let rule = try await LifecyclePlanner(store: archive.store, policy: policy, now: lifecycleNow).plan().rules[0]
        #expect(rule.matched == ObjectTally(objects: 1, bytes: 1000))
        #expect(tier(rule, .standardIA) == ObjectTally(objects: 1, bytes: 1000))
        #expect(rule.heldBySize == .zero)
    }

    @Test("age comes from the archive key; other keys fall back to the modification time")
    func ageBasis() async throws {
        let archive = try LifecycleTestArchive()
        let old = lifecycleKey(age: 3000)
        await archive.put([(old, 100), ("notes/old.txt", 200), ("notes/new.txt", 300)])
        // The archive object's file is new; its key says it was deleted 3000 days ago.
        try archive.setModified("notes/old.txt", to: lifecycleToday.start.addingTimeInterval(-3000 * 86_400))
        try archive.setModified("notes/new.txt", to: lifecycleToday.start.addingTimeInterval(-86_400))

        let byKey = try await LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow).plan()
        #expect(byKey.ageBasis == .deletionTime)
        #expect(byKey.rules[0].expiration?.due == ObjectTally(objects: 2, bytes: 300))
        #expect(tier(byKey.rules[0], .standard) == ObjectTally(objects: 1, bytes: 300))

        let byModification = try await LifecyclePlanner(
            store: archive.store, policy: .default, now: lifecycleNow, options: .init(ageBasis: .lastModified)
        ).plan()
        #expect(byModification.rules[0].expiration?.due == ObjectTally(objects: 1, bytes: 200))
    }

    @Test("rules select by prefix; disabled rules count nothing; objects no rule covers are counted apart")
    func prefixesAndDisabledRules() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put([(lifecycleKey(age: 3000), 10), (lifecycleKey(age: 400), 20), (lifecycleKey(age: 5), 40)])
        let year2016 = String(lifecycleKey(age: 3000).prefix(5))  // "2016/"
        let policy = try LifecyclePolicy.decode(Array("""
            {"Rules": [
              {"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "\(year2016)"}, "Expiration": {"Days": 365}},
              {"ID": "off", "Status": "Disabled", "Filter": {}, "Expiration": {"Days": 1}},
              {"ID": "legacy", "Status": "Enabled", "Prefix": "2023/", "Transitions": [{"Days": 0, "StorageClass": "GLACIER"}]}
            ]}
            """.utf8))
        let plan = try await LifecyclePlanner(store: archive.store, policy: policy, now: lifecycleNow).plan()
        #expect(plan.rules.map(\.id) == ["old", "off", "legacy"])
        #expect(plan.rules[0].matched == ObjectTally(objects: 1, bytes: 10))
        #expect(plan.rules[0].expiration?.due == ObjectTally(objects: 1, bytes: 10))
        #expect(plan.rules[1].enabled == false)
        #expect(plan.rules[1].matched == .zero)
        #expect(plan.rules[1].tiers.isEmpty)
        #expect(plan.rules[2].prefix == "2023/")
        #expect(plan.rules[2].heldBySize == ObjectTally(objects: 1, bytes: 20))
        #expect(plan.unmatched == ObjectTally(objects: 1, bytes: 40))
        #expect(plan.scanned == ObjectTally(objects: 3, bytes: 70))
    }

    @Test("the policy's prefixes are whole bucket keys: keyPrefix says where the store's keys sit")
    func keyPrefix() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put([(lifecycleKey(age: 3000), 10)])
        let policy = LifecyclePolicy(rules: [
            LifecycleRule(id: "mine", filter: LifecycleFilter(prefix: "user-service/" + lifecycleKey(age: 3000).prefix(4)), expiration: LifecycleExpiration(days: 10)),
            LifecycleRule(id: "theirs", filter: LifecycleFilter(prefix: "order-service/"), expiration: LifecycleExpiration(days: 10)),
            LifecycleRule(id: "everything", filter: LifecycleFilter(prefix: "user"), expiration: LifecycleExpiration(days: 10)),
        ])
        let plan = try await LifecyclePlanner(
            store: archive.store, policy: policy, now: lifecycleNow, options: .init(keyPrefix: "user-service/")
        ).plan()
        #expect(plan.rules.map(\.matched.objects) == [1, 0, 1])
    }

    @Test("transitions on a date")
    func transitionsOnADate() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put([(lifecycleKey(age: 10), 200_000), (lifecycleKey(age: -1, item: "LATER"), 200_000)])
        let policy = try LifecyclePolicy.decode(Array("""
            {"Rules": [{"ID": "d", "Status": "Enabled", "Filter": {"Prefix": ""},
                        "Transitions": [{"Date": "2024-06-01T00:00:00Z", "StorageClass": "GLACIER"}]}]}
            """.utf8))
        let rule = try await LifecyclePlanner(store: archive.store, policy: policy, now: lifecycleNow).plan().rules[0]
        #expect(tier(rule, .glacier)?.objects == 1)
        #expect(move(rule, .glacier)?.objects == 1)
        #expect(tier(rule, .standard)?.objects == 1)
        #expect(rule.tiers[1].fromDate == lifecycleToday)
    }

    @Test("text and JSON output")
    func output() async throws {
        let archive = try LifecycleTestArchive()
        await archive.put(lifecycleAges.map { (lifecycleKey(age: $0), lifecycleLargeSize($0)) })
        var options = LifecyclePlanner.Options()
        options.policySource = "lifecycle/default.json"
        let plan = try await LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow, options: options).plan()
        let text = plan.textLines.joined(separator: "\n")
        #expect(text.contains("on 2024-06-01 (UTC)"))
        #expect(text.contains("Policy: lifecycle/default.json"))
        #expect(text.contains("no storage classes"))
        let rows = plan.textLines.filter { $0.hasPrefix("archive-tiers") }
        #expect(rows.contains { $0.contains("in STANDARD_IA (age 90–364 days)") && $0.hasSuffix("2  256.4 KiB") })
        #expect(rows.contains { $0.contains("would move to GLACIER today") && $0.contains("  1  ") })
        #expect(rows.contains { $0.contains("expire (age 2557+ days; 1 due today)") && $0.contains("  2  ") })
        // The rules' table, up to the layouts' costs that follow it.
        let table = Array(plan.textLines.drop { !$0.hasPrefix("RULE") }.prefix { !$0.isEmpty })
        #expect(Set(table.map(\.count)).count == 1, "numbers are right-aligned: every row ends in the same column")
        let actionColumn = table[0].distance(from: table[0].startIndex, to: table[0].range(of: "ACTION")!.lowerBound)
        #expect(table[1].distance(from: table[1].startIndex, to: table[1].range(of: "in STANDARD")!.lowerBound) == actionColumn)

        let json = try JSONEncoder().encode(plan)
        let decoded = try JSONDecoder().decode(LifecyclePlan.self, from: json)
        #expect(decoded == plan)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["today"] as? String == "2024-06-01")
        #expect(object["transitionMinimumObjectSize"] as? String == "all_storage_classes_128K")
    }

    @Test("human-readable bytes")
    func bytes() {
        #expect(LifecycleText.bytes(0) == "0 B")
        #expect(LifecycleText.bytes(1023) == "1023 B")
        #expect(LifecycleText.bytes(1536) == "1.5 KiB")
        #expect(LifecycleText.bytes(131_072) == "128.0 KiB")
        #expect(LifecycleText.bytes(5 * 1024 * 1024 * 1024) == "5.0 GiB")
    }

    @Test("an empty archive plans to nothing")
    func emptyArchive() async throws {
        let archive = try LifecycleTestArchive()
        let plan = try await LifecyclePlanner(store: archive.store, policy: .default, now: lifecycleNow).plan()
        #expect(plan.scanned == .zero)
        #expect(plan.rules[0].expiration?.due == .zero)
    }
}
