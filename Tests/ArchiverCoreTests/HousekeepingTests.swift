import ArchiverCore
import Foundation
import Testing
import TestSupport

/// The deletion queue's side of the retention, recording what cleanup asked (the queue is another part's; this
/// checks the call site).
final class RecordingQueue: CompletedQueueEntries, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var counted: [Date] = []
    private(set) var removed: [Date] = []
    let completed: Int

    init(completed: Int) { self.completed = completed }

    func countCompleted(before cutoff: Date) async throws -> Int {
        lock.withLock { counted.append(cutoff) }
        return completed
    }

    func removeCompleted(before cutoff: Date) async throws -> Int {
        lock.withLock { removed.append(cutoff) }
        return completed
    }
}

/// The pid of a process that has ended.
func deadProcessID() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
}

@Suite("cleanup: archiver's own leftovers")
struct HousekeepingTests {
    static let now = Date()
    static let day: TimeInterval = 86_400

    static func letter(_ position: String, failedDaysAgo days: Double) -> DeadLetter {
        DeadLetter(source: "jsonl:/feed.jsonl", partition: "", position: position, reason: "not JSON", code: "malformed-json", raw: [1, 2], at: now.addingTimeInterval(-days * day))
    }

    @Test func temporaryFilesOfDeadProcessesDeadLettersAndQueueEntriesPastTheirRetention() async throws {
        let folder = TemporaryFolder("housekeeping")
        defer { folder.remove() }
        let dead = try deadProcessID()
        let alive = getpid()
        let state = folder("state")
        let letters = try DeadLetterFolder(stateFolder: state)
        let old = Self.letter("line 1", failedDaysAgo: 100)
        let recent = Self.letter("line 2", failedDaysAgo: 1)
        try await letters.write([old, recent])
        try Data("{\"id\":".utf8).write(to: URL(fileURLWithPath: "\(state)/dead-letters/abcdef0123.json"))  // damaged
        try writeFile("\(state)/dead-letters/.tmp/0/\(dead)-1", size: 10, age: 0, now: Date())
        try writeFile("\(state)/dead-letters/.tmp/1/\(alive)-2", size: 10, age: 0, now: Date())
        try writeFile(folder("archive/.tmp/3/\(dead)-7"), size: 30, age: 0, now: Date())
        try writeFile(folder("archive/2024/01/15/x.json.gz"), size: 30, age: 0, now: Date())
        try writeFile(folder("exports/jan.jsonl.tmp-\(dead)"), size: 40, age: 0, now: Date())
        try writeFile(folder("exports/jan.jsonl.tmp-\(alive)"), size: 40, age: 0, now: Date())
        let queue = RecordingQueue(completed: 12)
        let housekeeping = Housekeeping(
            archiveFolder: folder("archive"), stateFolder: state, syncJSONLines: [folder("exports/jan.jsonl")],
            deadLetterRetention: 90 * Self.day, queueRetention: 30 * Self.day, queue: queue)
        let before = folder.files()

        let dry = await CleanupRun(targets: [], housekeeping: housekeeping, dryRun: true, clock: FixedClock(Self.now)).run()
        #expect(folder.files() == before, "a dry run changed the folders")
        #expect(dry.totals.temporaryFilesRemoved == 3 && dry.totals.bytesFreed == 80)
        #expect(dry.totals.deadLettersRemoved == 1 && dry.totals.queueEntriesRemoved == 12 && dry.totals.errors == 0)
        #expect(queue.counted == [Self.now.addingTimeInterval(-30 * Self.day)] && queue.removed.isEmpty)

        let real = await CleanupRun(targets: [], housekeeping: housekeeping, dryRun: false, clock: FixedClock(Self.now)).run()
        #expect(real.totals == dry.totals)
        #expect(queue.removed == [Self.now.addingTimeInterval(-30 * Self.day)])
        let removed = Set(before).subtracting(folder.files())
        #expect(removed == [
            "state/dead-letters/\(old.id).json", "state/dead-letters/.tmp/0/\(dead)-1", "archive/.tmp/3/\(dead)-7", "exports/jan.jsonl.tmp-\(dead)",
        ])
        #expect(!FileManager.default.fileExists(atPath: folder("archive/.tmp")), "the archive's emptied .tmp/ is left behind")
        #expect(try await letters.contains(id: recent.id))
        #expect(try await letters.contains(id: "abcdef0123"), "a damaged entry was removed")
    }

    /// The entry is retried (and fails again) between the plan and its removal: it is newer now, so it stays.
    @Test func aDeadLetterRewrittenAfterThePlanIsKept() async throws {
        let folder = TemporaryFolder("housekeeping-race")
        defer { folder.remove() }
        let letters = try DeadLetterFolder(stateFolder: folder("state"))
        var entry = Self.letter("line 9", failedDaysAgo: 100)
        try await letters.write([entry])
        let housekeeping = Housekeeping(stateFolder: folder("state"), deadLetterRetention: 90 * Self.day)
        let plans = await housekeeping.plans(now: Self.now)
        #expect(plans.flatMap(\.actions).count == 1)
        entry.attempts += 1
        entry.lastFailedAt = ISO8601DateFormatter().string(from: Self.now)
        try await letters.write([entry])
        let (done, problems) = await CleanupExecutor(root: nil).execute(plans[0])
        #expect(done.deadLettersRemoved == 0 && problems.isEmpty)
        #expect(try await letters.entry(id: entry.id).attempts == 2)
        #expect(folder.files(under: "state/dead-letters") == ["\(entry.id).json"], "an aside file was left")
    }

    /// A cleanup killed between moving an entry aside and settling it: the next run finishes the job either way.
    @Test func aRemovalInterruptedHalfWayIsFinishedByTheNextRun() async throws {
        let folder = TemporaryFolder("housekeeping-interrupted")
        defer { folder.remove() }
        let letters = try DeadLetterFolder(stateFolder: folder("state"))
        let old = Self.letter("line 1", failedDaysAgo: 100)
        let renewed = Self.letter("line 2", failedDaysAgo: 1)
        let replaced = Self.letter("line 3", failedDaysAgo: 100)
        try await letters.write([old, renewed, replaced])
        let base = folder("state/dead-letters")
        for entry in [old, renewed, replaced] {
            try FileManager.default.moveItem(atPath: "\(base)/\(entry.id).json", toPath: "\(base)/.removing-\(entry.id).json")
        }
        // After `replaced` was moved aside, a retry wrote it again, newer.
        var newer = replaced
        newer.lastFailedAt = ISO8601DateFormatter().string(from: Self.now)
        try await letters.write([newer])

        let housekeeping = Housekeeping(stateFolder: folder("state"), deadLetterRetention: 90 * Self.day)
        let summary = await CleanupRun(targets: [], housekeeping: housekeeping, dryRun: false, clock: FixedClock(Self.now)).run()
        #expect(summary.totals.errors == 0)
        #expect(folder.files(under: "state/dead-letters").sorted() == ["\(renewed.id).json", "\(replaced.id).json"].sorted())
        #expect(try await letters.entry(id: replaced.id).lastFailedAt == newer.lastFailedAt)

        // A cleanup without a retention puts back what a killed one left aside: no entry stays hidden from `dlq list`.
        try FileManager.default.moveItem(atPath: "\(base)/\(renewed.id).json", toPath: "\(base)/.removing-\(renewed.id).json")
        let plain = await CleanupRun(targets: [], housekeeping: Housekeeping(stateFolder: folder("state")), dryRun: false, clock: FixedClock(Self.now)).run()
        #expect(plain.totals.errors == 0)
        #expect(try await letters.entries().map(\.id).sorted() == [renewed.id, replaced.id].sorted())
    }

    @Test func aQueueRetentionWithoutAQueueIsAnError() async throws {
        let folder = TemporaryFolder("housekeeping-noqueue")
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder("state"), withIntermediateDirectories: true)
        let housekeeping = Housekeeping(stateFolder: folder("state"), queueRetention: Self.day)
        let summary = await CleanupRun(targets: [], housekeeping: housekeeping, dryRun: true, clock: FixedClock(Self.now)).run()
        #expect(summary.totals.errors == 1)
        #expect(summary.problems.first?.error.contains("no deletion queue") == true)
    }
}
