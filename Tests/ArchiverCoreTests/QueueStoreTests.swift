import ArchiverCore
import Foundation
import GRDB
import JSONToolkit
import Testing
import TestSupport

/// Always the same number in [0, 1): backoff waits are then exactly that share of their ceiling.
struct FixedRandom: RandomSource {
    let value: Double
    func unit() -> Double { value }
}

/// A queue in a fresh state folder, with a clock the test moves.
struct QueueFixture {
    let folder = TemporaryFolder("queue")
    let clock = FixedClock(Date(timeIntervalSince1970: 1_700_000_000))
    let checkpoints: CheckpointStore
    let store: QueueStore
    static let root = RootLocation.folder("/srv/files")

    init() throws {
        checkpoints = try CheckpointStore(stateFolder: folder("state"))
        store = QueueStore(checkpoints: checkpoints)
    }

    var now: Date { clock.now() }
    func advance(_ seconds: Double) { clock.set(now.addingTimeInterval(seconds)) }

    /// Entries for `count` deletions, one delete-object action each.
    static func planned(_ count: Int, rule: String = "files", source: String = "jsonl:/feed", start: Int = 0) -> [PlannedEntry] {
        (start..<(start + count)).map { n in
            let key = "2024/01/15/K\(n).000000.\(n).manual.json.gz"
            return PlannedEntry(
                id: PlannedEntry.id(source: source, archiveKey: key, rule: rule, actionIndex: 0), rule: rule, actionIndex: 0, kind: .deleteObject,
                root: "files", target: DeletionTarget.object(key: "f/\(n)", keep: false).json(rootLocation: root), source: source,
                archiveKey: key, unsafe: nil)
        }
    }

    /// Counts per state straight from the rows (what the trigger-kept table must agree with).
    func groupedCounts() throws -> [QueueState: Int] {
        let rows = try DatabaseQueue(path: checkpoints.path).read { db in
            try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM queue_entries GROUP BY state")
        }
        return Dictionary(uniqueKeysWithValues: rows.map { (QueueState(rawValue: $0["state"])!, $0["n"] as Int) })
    }
}

@Suite("The deletion queue's store: states, attempts, leases, backoff")
struct QueueStoreTests {
    let backoff = Backoff(base: 2, maximum: 60, random: FixedRandom(value: 0.5))

    @Test func entriesAreWrittenOnceWhateverTheReplays() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(10), maxAttempts: 3, at: queue.now)
        try queue.store.enqueue(QueueFixture.planned(10), maxAttempts: 3, at: queue.now.addingTimeInterval(5))
        try queue.store.enqueue(QueueFixture.planned(5, start: 8), maxAttempts: 3, at: queue.now)
        let stats = try queue.store.stats()
        #expect(stats.total == 13 && stats.counts[.available] == 13)
        #expect(PlannedEntry.id(source: "s", archiveKey: "k", rule: "r", actionIndex: 1) == PlannedEntry.id(source: "s", archiveKey: "k", rule: "r", actionIndex: 1))
        #expect(PlannedEntry.id(source: "s", archiveKey: "k", rule: "r", actionIndex: 1) != PlannedEntry.id(source: "s", archiveKey: "k", rule: "r", actionIndex: 2))
    }

    @Test func claimsHandEachEntryToOneWorkerAndCountAnAttempt() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(25), maxAttempts: 3, at: queue.now)
        let first = try queue.store.claim(limit: 10, owner: "a", leaseUntil: queue.now.addingTimeInterval(60))
        let second = try queue.store.claim(limit: 10, owner: "b", leaseUntil: queue.now.addingTimeInterval(60))
        let third = try queue.store.claim(limit: 10, owner: "c", leaseUntil: queue.now.addingTimeInterval(60))
        #expect(first.count == 10 && second.count == 10 && third.count == 5)
        #expect(Set(first.map(\.id) + second.map(\.id) + third.map(\.id)).count == 25)
        #expect(first.allSatisfy { $0.state == .executing && $0.attempts == 1 && $0.leaseOwner == "a" })
        #expect(try queue.store.claim(limit: 10, owner: "d", leaseUntil: queue.now).isEmpty)
    }

    @Test func failuresRetryWithBackoffThenParkWithTheirHistory() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(1), maxAttempts: 3, at: queue.now)
        let failure = ActionFailure(code: "InternalError", message: "S3 said no", httpStatus: 500)
        for attempt in 1...3 {
            try queue.store.stage(now: queue.now)
            let claimed = try queue.store.claim(limit: 5, owner: "w", leaseUntil: queue.now.addingTimeInterval(60))
            #expect(claimed.count == 1 && claimed[0].attempts == attempt)
            let finished = try queue.store.finish([(claimed[0], .failed(failure))], owner: "w", now: queue.now, backoff: backoff)
            let entry = try queue.store.entry(claimed[0].id)
            if attempt < 3 {
                #expect(finished.retrying == 1 && entry.state == .retryable)
                // Full jitter at 0.5: half of min(60, 2 · 2^attempt).
                #expect(entry.nextAttemptAt.timeIntervalSince(queue.now) == backoff.ceiling(afterAttempt: attempt) / 2)
                #expect(try queue.store.claim(limit: 5, owner: "w", leaseUntil: queue.now).isEmpty, "claimed before its backoff passed")
                queue.advance(backoff.ceiling(afterAttempt: attempt))
            } else {
                #expect(finished.parked == 1 && entry.state == .parked)
                #expect(entry.errors.map(\.attempt) == [1, 2, 3])
                #expect(entry.errors.allSatisfy { $0.code == "InternalError" && $0.httpStatus == 500 })
                #expect(entry.lastError == "S3 said no" && entry.lastErrorCode == "InternalError")
            }
        }
        #expect(try queue.store.stats().errors == ["InternalError": 1])
        // A permanent failure parks at the first attempt.
        try queue.store.enqueue(QueueFixture.planned(1, start: 1), maxAttempts: 3, at: queue.now)
        let claimed = try queue.store.claim(limit: 5, owner: "w", leaseUntil: queue.now.addingTimeInterval(60))
        let finished = try queue.store.finish(
            [(claimed[0], .failed(ActionFailure(code: "unsafe-target", message: "no", permanent: true)))], owner: "w", now: queue.now, backoff: backoff)
        #expect(try finished.parked == 1 && queue.store.entry(claimed[0].id).attempts == 1)
    }

    @Test func anEntryLeftByAKilledWorkerIsRescuedWhenItsLeasePasses() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(2), maxAttempts: 2, at: queue.now)
        let claimed = try queue.store.claim(limit: 2, owner: "killed", leaseUntil: queue.now.addingTimeInterval(300))
        #expect(try queue.store.rescue(now: queue.now.addingTimeInterval(299), backoff: backoff) == 0)
        queue.advance(301)
        #expect(try queue.store.rescue(now: queue.now, backoff: backoff) == 2)
        let entry = try queue.store.entry(claimed[0].id)
        #expect(entry.state == .retryable && entry.attempts == 1 && entry.errors.first?.code == "lease-expired")
        #expect(entry.lastError?.contains("lease expired (worker killed?)") == true)
        // The killed worker's late result is not recorded over the rescue.
        let late = try queue.store.finish([(claimed[0], .completed(.object([])))], owner: "killed", now: queue.now, backoff: backoff)
        #expect(try late.stale == 1 && queue.store.entry(claimed[0].id).state == .retryable)
        // Killed again at the last attempt: parked.
        queue.advance(60)
        try queue.store.stage(now: queue.now)
        _ = try queue.store.claim(limit: 2, owner: "killed-again", leaseUntil: queue.now.addingTimeInterval(10))
        queue.advance(11)
        #expect(try queue.store.rescue(now: queue.now, backoff: backoff) == 2)
        #expect(try queue.store.stats().counts[.parked] == 2)
    }

    @Test func delayedEntriesWaitScheduled() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.checkpoints.commit(BatchCommit(
            source: "s", partition: "", position: "1", at: queue.now, writes: [QueueEnqueue(entries: QueueFixture.planned(3), maxAttempts: 3, delay: 3600)]))
        #expect(try queue.store.stats().counts[.scheduled] == 3)
        try queue.store.stage(now: queue.now.addingTimeInterval(3599))
        #expect(try queue.store.claim(limit: 5, owner: "w", leaseUntil: queue.now).isEmpty)
        try queue.store.stage(now: queue.now.addingTimeInterval(3600))
        #expect(try queue.store.claim(limit: 5, owner: "w", leaseUntil: queue.now).count == 3)
    }

    @Test func unsafeEntriesAreWrittenParkedWithTheirReason() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        var entries = QueueFixture.planned(2)
        entries[1].unsafe = "rule 'files', action 1 …: the key '../x' has a '..' segment"
        try queue.store.enqueue(entries, maxAttempts: 3, at: queue.now)
        let parked = try queue.store.entry(entries[1].id)
        #expect(parked.state == .parked && parked.attempts == 0 && parked.lastErrorCode == "unsafe-target")
        #expect(parked.errors.count == 1 && parked.errors[0].error.contains("'..' segment"))
        #expect(try queue.store.claim(limit: 5, owner: "w", leaseUntil: queue.now).map(\.id) == [entries[0].id])
    }

    @Test func statsAgreeWithTheRowsAfterEveryKindOfChange() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(200), maxAttempts: 2, at: queue.now)
        var generator = SystemRandomNumberGenerator()
        for round in 0..<12 {
            try queue.store.stage(now: queue.now)
            let claimed = try queue.store.claim(limit: 30, owner: "w", leaseUntil: queue.now.addingTimeInterval(5))
            let results: [(entry: QueueEntry, result: ActionResult)] = claimed.map { entry in
                (entry, Bool.random(using: &generator) ? .completed(.object([])) : .failed(ActionFailure(code: ["A", "B"].randomElement(using: &generator)!, message: "x")))
            }
            _ = try queue.store.finish(Array(results.prefix(max(0, results.count - 3))), owner: "w", now: queue.now, backoff: backoff)
            queue.advance(100)
            if round % 3 == 0 { _ = try queue.store.retry(QueueFilter(states: [.parked]), now: queue.now) }
            if round % 4 == 1 { _ = try queue.store.cancel(QueueFilter(states: [.retryable], rule: "files"), now: queue.now) }
            if round % 5 == 2 { _ = try queue.store.drop(QueueFilter(states: [.cancelled])) }
            if round % 6 == 3 { try queue.store.prune(finishedBefore: queue.now) }
            try queue.store.rescue(now: queue.now, backoff: backoff)
            let stats = try queue.store.stats()
            let grouped = try queue.groupedCounts()
            #expect(stats.counts.filter { $0.value > 0 } == grouped, "round \(round)")
        }
    }

    @Test func retryCancelDropAndPruneActOnWhatTheFilterSelects() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(4, rule: "a") + QueueFixture.planned(4, rule: "b"), maxAttempts: 1, at: queue.now)
        let claimed = try queue.store.claim(limit: 8, owner: "w", leaseUntil: queue.now.addingTimeInterval(60))
        let a = claimed.filter { $0.rule == "a" }
        let b = claimed.filter { $0.rule == "b" }
        _ = try queue.store.finish(
            a.map { ($0, .failed(ActionFailure(code: "X", message: "x"))) } + b.map { ($0, .completed(.object([]))) },
            owner: "w", now: queue.now, backoff: backoff)
        // Retry the parked ones: they get one more attempt, their history kept.
        let retried = try queue.store.retry(QueueFilter(states: [.parked]), now: queue.now)
        #expect(retried == QueueStore.Changed(changed: 4, leftAlone: 0))
        let entry = try queue.store.entry(a[0].id)
        #expect(entry.state == .available && entry.maxAttempts == 2 && entry.errors.count == 1)
        // Completed ones cannot be cancelled; waiting ones can.
        #expect(try queue.store.cancel(QueueFilter(rule: "b"), now: queue.now) == QueueStore.Changed(changed: 0, leftAlone: 4))
        #expect(try queue.store.cancel(QueueFilter(ids: [a[0].id, a[1].id]), now: queue.now) == QueueStore.Changed(changed: 2, leftAlone: 0))
        #expect(try queue.store.drop(QueueFilter(ids: [a[2].id])).changed == 1)
        #expect(throws: QueueError.self) { try queue.store.entry(a[2].id) }
        // Prune: completed and cancelled ones finished before the date.
        #expect(try queue.store.prune(finishedBefore: queue.now) == 0)
        #expect(try queue.store.prune(finishedBefore: queue.now.addingTimeInterval(1)) == 6)
        #expect(try queue.store.stats().total == 1)
    }

    @Test func cleanupsRetentionCountsThenRemovesOnlyFinishedEntriesPastIt() async throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(6), maxAttempts: 1, at: queue.now)
        let claimed = try queue.store.claim(limit: 4, owner: "w", leaseUntil: queue.now.addingTimeInterval(60))
        _ = try queue.store.finish(
            claimed.prefix(3).map { ($0, .completed(.object([]))) } + claimed.suffix(1).map { ($0, .failed(ActionFailure(code: "X", message: "x"))) },
            owner: "w", now: queue.now, backoff: backoff)
        // Three completed, one parked, two waiting; a day later, one more waiting entry is cancelled.
        queue.advance(86_400)
        let waiting = try queue.store.list(QueueFilter(states: [.available]), limit: 10)
        #expect(try queue.store.cancel(QueueFilter(ids: [waiting[0].id]), now: queue.now).changed == 1)
        queue.advance(86_400)

        let housekeeping = Housekeeping(stateFolder: queue.folder("state"), queueRetention: 36 * 3_600, queue: queue.store)
        let dry = await CleanupRun(targets: [], housekeeping: housekeeping, dryRun: true, clock: queue.clock).run()
        #expect(dry.totals.errors == 0 && dry.totals.queueEntriesRemoved == 3)
        #expect(try queue.store.stats().total == 6, "a dry run removed entries")

        let real = await CleanupRun(targets: [], housekeeping: housekeeping, dryRun: false, clock: queue.clock).run()
        #expect(real.totals.errors == 0 && real.totals.queueEntriesRemoved == 3)
        // Left: the parked one, the waiting one, and the one cancelled a day ago (inside the retention).
        #expect(try queue.groupedCounts() == [.parked: 1, .available: 1, .cancelled: 1])
    }

    @Test func idsAreFoundByTheirStart() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        let entries = QueueFixture.planned(300)
        try queue.store.enqueue(entries, maxAttempts: 3, at: queue.now)
        let id = entries[7].id
        #expect(try queue.store.entry(String(id.prefix(12))).id == id)
        #expect(try queue.store.entry(id.uppercased()).id == id)
        let short = #expect(throws: QueueError.self) { try queue.store.entry("abc") }
        #expect(short?.kind == .invalidID)
        let none = #expect(throws: QueueError.self) { try queue.store.entry(String(repeating: "0", count: 64)) }
        #expect(none?.kind == .noEntry)
        // Among 300 ids, some two share their first hex digit... and their first six rarely: a one-digit-shorter prefix of a
        // shared start is ambiguous.
        let sorted = entries.map(\.id).sorted()
        let pair = zip(sorted, sorted.dropFirst()).max { a, b in a.0.commonPrefix(with: a.1).count < b.0.commonPrefix(with: b.1).count }!
        let common = pair.0.commonPrefix(with: pair.1)
        if common.count >= 6 {
            let ambiguous = #expect(throws: QueueError.self) { try queue.store.entry(common) }
            #expect(ambiguous?.kind == .ambiguousID)
        }
    }

    @Test func theReportHasTheColumnsOfAnS3BatchOperationsCompletionReport() throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        var entries = QueueFixture.planned(2)
        entries[0].target = DeletionTarget.object(key: "videos/a,\"b\".mp4", keep: false).json(rootLocation: try RootLocation("s3://content/uploads/"))
        try queue.store.enqueue(entries, maxAttempts: 1, at: queue.now)
        let claimed = try queue.store.claim(limit: 2, owner: "w", leaseUntil: queue.now.addingTimeInterval(60))
        let s3 = claimed.first { $0.id == entries[0].id }!
        let local = claimed.first { $0.id == entries[1].id }!
        _ = try queue.store.finish(
            [(s3, .failed(ActionFailure(code: "AccessDenied", message: "S3 said: Access Denied", httpStatus: 403))), (local, .completed(.object([("deleted", .integer(1))])))],
            owner: "w", now: queue.now, backoff: backoff)
        #expect(QueueReport.line(try queue.store.entry(s3.id)) == #"content,"uploads/videos/a,""b"".mp4",,failed,AccessDenied,403,S3 said: Access Denied"#)
        #expect(QueueReport.line(try queue.store.entry(local.id)) == #",/srv/files/f/1,,succeeded,,,"delete-object completed: {""deleted"":1}""#)
    }
}
