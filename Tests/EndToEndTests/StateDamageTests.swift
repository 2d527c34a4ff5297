import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// What a crash while writing the checkpoint or a dead-letter entry can leave in the state folder, and what
/// the next start does with it: go on correctly, or stop with one clear paragraph naming the file and what to
/// do — never a stack trace, and never a checkpoint moved ahead.
@Suite struct StateDamageTests {
    /// A feed of which the first part was archived by a run that stopped cleanly; the rest is there to archive.
    struct Setup {
        let folder = TemporaryFolder("state-damage")
        let counts: SampleFeed.Counts
        let tail = ["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once", "--json"]
        var state: StateUnderTest { StateUnderTest(path: folder("state")) }
        var database: String { folder("state/archiver.sqlite") }

        init(records: Int = 2_000) throws {
            let (text, counts) = SampleFeed.text(0..<records)
            self.counts = counts
            try Data(text.utf8).write(to: URL(fileURLWithPath: folder("clean.jsonl")))
            let clean = try BuiltBinary.run(["tail", "--source", "jsonl:clean.jsonl", "--archive", "clean-archive", "--state", "clean-state", "--once"], in: folder.path)
            #expect(clean.status == 0, "\(clean.stderr)")
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            try Data((lines.prefix(records / 2).joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: folder("feed.jsonl")))
            let first = try BuiltBinary.run(tail, in: folder.path)
            #expect(first.status == 0, "\(first.stderr)")
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: folder("feed.jsonl")))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((lines.dropFirst(records / 2).joined(separator: "\n")).utf8))
            try handle.close()
        }

        /// The next `tail --once` finishes the feed: the archive and dead letters equal a clean run's.
        func expectCompletes(_ what: String) async throws {
            let result = try await BuiltBinary.run(tail, in: folder.path)
            #expect(result.status == 0, "\(what): \(result.stderr)")
            expectNoCrash(result, what)
            try await CrashChecks.sameAsClean(.folder(folder("archive")), .folder(folder("clean-archive")), expected: counts.removes, folder: folder)
            CrashChecks.sameDeadLetters(state, StateUnderTest(path: folder("clean-state")), expected: counts.malformed + counts.removesWithoutImage)
        }

        /// The line after the last one the checkpoint covers (0 when there is none).
        func nextLine() throws -> Int {
            Int(try state.checkpoints()[""]?.split(separator: ":").last ?? "0") ?? -1
        }
    }

    static func expectNoCrash(_ result: BuiltBinary.Result, _ what: String) {
        for sign in ["Fatal error", "Program crashed", "stack trace", "Backtrace", "Segmentation fault"] {
            #expect(!result.stderr.contains(sign), "\(what): \(result.stderr)")
        }
    }

    /// Exit nonzero with one paragraph (after the usual `Error: `) that names `file` and says what to do.
    static func expectClearError(_ result: BuiltBinary.Result, naming file: String, advising advice: String, _ what: String) {
        #expect(result.status != 0, "\(what): exited 0")
        expectNoCrash(result, what)
        let error = result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
        #expect(error.count == 1, "\(what): \(result.stderr)")
        #expect(error.first?.contains(file) == true, "\(what): the error does not name \(file): \(result.stderr)")
        #expect(error.first?.contains(advice) == true, "\(what): the error does not say '\(advice)': \(result.stderr)")
    }

    @Test func anEmptyCheckpointDatabaseIsAFreshStart() async throws {
        // Killed after SQLite created the file and before its first write.
        let s = try Setup()
        defer { s.folder.remove() }
        try Data().write(to: URL(fileURLWithPath: s.database))
        try await s.expectCompletes("empty checkpoint database")
    }

    @Test(arguments: ["truncated", "garbage", "header only", "checkpoint page garbage"])
    func aDamagedCheckpointDatabaseStopsTheTailWithAClearError(damage: String) async throws {
        let s = try Setup()
        defer { s.folder.remove() }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: s.database))
        #expect(bytes.count > 8192)
        switch damage {
        case "truncated": try bytes.prefix(4096 + 1000).write(to: URL(fileURLWithPath: s.database))
        case "garbage": try Data((0..<bytes.count).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: s.database))
        case "header only": try bytes.prefix(60).write(to: URL(fileURLWithPath: s.database))
        default:
            // The page holding the checkpoints: the file opens, the schema reads, the checkpoints do not.
            let page = Int(try Shell.check(["sqlite3", s.database, "SELECT rootpage FROM sqlite_master WHERE name = 'checkpoints'"])
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(page > 1)
            var damaged = bytes
            damaged.replaceSubrange(((page - 1) * 4096)..<(page * 4096), with: (0..<4096).map { _ in UInt8.random(in: 0...255) })
            try damaged.write(to: URL(fileURLWithPath: s.database))
        }
        let objectsBefore = s.folder.files(under: "archive")
        let result = try await BuiltBinary.run(s.tail, in: s.folder.path)
        Self.expectClearError(result, naming: s.database, advising: "mv ", damage)
        #expect(s.folder.files(under: "archive") == objectsBefore, "\(damage): the tail went on with a damaged checkpoint")
        // Never repaired behind one's back: the damaged file is still there, as it was.
        #expect(FileManager.default.contents(atPath: s.database)?.count == (damage == "truncated" ? 5096 : damage == "header only" ? 60 : bytes.count))

        // Doing what it says starts the source over; replays write the same objects, so the archive ends equal to a clean run's.
        try FileManager.default.moveItem(atPath: s.database, toPath: s.database + ".damaged")
        try await s.expectCompletes("after moving the damaged database aside")
    }

    @Test(arguments: ["wal cut mid-frame", "wal with garbage appended", "wal replaced by garbage", "shm garbage", "shm removed"])
    func aTornWriteAheadLogLeavesAnOlderCheckpointOrTheSame(damage: String) async throws {
        let s = try Setup()
        defer { s.folder.remove() }
        // A following tail, killed once it has saved a checkpoint past the first run's: its -wal and -shm stay behind.
        let before = try s.nextLine()
        let running = try BuiltBinary.start(Array(s.tail.dropLast(2)), in: s.folder.path)
        let deadline = Date().addingTimeInterval(60)
        while try s.nextLine() <= before, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        running.signal(SIGKILL)
        _ = await running.finish()
        let saved = try s.nextLine()
        #expect(saved > before, "the tail saved no checkpoint in time")
        let wal = s.database + "-wal"
        let shm = s.database + "-shm"
        let walBytes = try Data(contentsOf: URL(fileURLWithPath: wal))
        #expect(walBytes.count >= 32 + 24 + 4096, "no write-ahead log to damage")
        switch damage {
        case "wal cut mid-frame": try walBytes.prefix(walBytes.count - 2000).write(to: URL(fileURLWithPath: wal))
        case "wal with garbage appended": try (walBytes + Data((0..<5000).map { _ in UInt8.random(in: 0...255) })).write(to: URL(fileURLWithPath: wal))
        case "wal replaced by garbage": try Data((0..<walBytes.count).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: wal))
        case "shm garbage": try Data((0..<32768).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: shm))
        default: try FileManager.default.removeItem(atPath: shm)
        }
        // Read on a copy (reading may fold the log in): the checkpoint is the same or older, never ahead.
        let copy = StateUnderTest(path: s.folder("state-copy"))
        try FileManager.default.copyItem(atPath: s.folder("state"), toPath: copy.path)
        let after = Int(try copy.checkpoints()[""]?.split(separator: ":").last ?? "0") ?? -1
        #expect(after <= saved, "\(damage): the checkpoint moved ahead (\(saved) → \(after))")
        try await s.expectCompletes(damage)
    }

    @Test func halfWrittenTemporaryFilesAreRemovedAndNeverShown() async throws {
        let s = try Setup()
        defer { s.folder.remove() }
        // What a process killed in the middle of writing leaves: temporary files named for it.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let pid = gone.processIdentifier
        // A clean exit leaves no `.tmp/`; a killed process leaves it with its files in it.
        for temporary in ["state/dead-letters/.tmp", "archive/.tmp"] {
            try FileManager.default.createDirectory(atPath: s.folder(temporary), withIntermediateDirectories: true)
        }
        try Data("{\"id\":\"abc\",\"raw_ba".utf8).write(to: URL(fileURLWithPath: s.folder("state/dead-letters/.tmp/\(pid)-0")))
        try Data([0x1f, 0x8b, 8, 0]).write(to: URL(fileURLWithPath: s.folder("archive/.tmp/\(pid)-7")))
        let listed = try KillLoop.listed(.folder(s.folder("archive")), in: s.folder)
        #expect(!listed.isEmpty && listed.allSatisfy { ArchiveKey(path: $0) != nil && !$0.contains(".tmp") })
        let dlq = try await BuiltBinary.run(["dlq", "list", "--state", "state", "--json"], in: s.folder.path)
        #expect(dlq.status == 0, "\(dlq.stderr)")
        #expect(!dlq.stdout.contains("abc"))
        try await s.expectCompletes("leftover temporary files")
        #expect(s.folder.files(under: "archive/.tmp").isEmpty)
    }

    @Test func aDamagedDeadLetterEntryIsNamedAndTheOthersStillWork() async throws {
        let s = try Setup()
        defer { s.folder.remove() }
        let letters = s.state.deadLetters().entries.sorted { $0.id < $1.id }
        #expect(letters.count >= 3, "the sample feed should have dead-lettered some records")
        let truncated = letters[0].id
        let empty = letters[1].id
        let entryPath = { (id: String) in s.folder("state/dead-letters/\(id).json") }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: entryPath(truncated)))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: entryPath(truncated)))
        try Data().write(to: URL(fileURLWithPath: entryPath(empty)))

        // `list` shows every whole entry and names each damaged file; it exits 1 so that scripts notice.
        let list = try await BuiltBinary.run(["dlq", "list", "--state", "state"], in: s.folder.path)
        #expect(list.status == 1, "\(list.stdout) \(list.stderr)")
        Self.expectNoCrash(list, "dlq list")
        for entry in letters.dropFirst(2) { #expect(list.stdout.contains(entry.id), "\(list.stdout)") }
        #expect(list.stderr.contains(entryPath(truncated)) && list.stderr.contains(entryPath(empty)), "\(list.stderr)")
        #expect(list.stderr.contains("dlq drop"), "\(list.stderr)")
        let json = try await BuiltBinary.run(["dlq", "list", "--state", "state", "--json"], in: s.folder.path)
        let listed = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(listed.count == letters.count - 2, "\(json.stdout) \(json.stderr)")

        let show = try await BuiltBinary.run(["dlq", "show", truncated, "--state", "state"], in: s.folder.path)
        Self.expectClearError(show, naming: entryPath(truncated), advising: "dlq drop", "dlq show")

        // The tail does not read entries: it goes on.
        let tail = try await BuiltBinary.run(s.tail, in: s.folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")

        // `retry` handles the whole entries and leaves the damaged ones, saying so.
        let whole = s.state.deadLetters().entries.count
        let retry = try await BuiltBinary.run(["dlq", "retry", "--state", "state", "--archive", "archive", "--json"], in: s.folder.path)
        #expect(retry.status == 1, "\(retry.stdout) \(retry.stderr)")
        Self.expectNoCrash(retry, "dlq retry")
        #expect(retry.stderr.contains(entryPath(truncated)), "\(retry.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(retry.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(summary["tried"] as? Int == whole, "\(retry.stdout)")

        // `drop` removes a damaged entry; then all is well.
        for id in [truncated, empty] {
            let drop = try await BuiltBinary.run(["dlq", "drop", id, "--state", "state"], in: s.folder.path)
            #expect(drop.status == 0, "\(drop.stderr)")
        }
        let again = try await BuiltBinary.run(["dlq", "list", "--state", "state"], in: s.folder.path)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(s.state.deadLetters().damaged.isEmpty)
    }
}
