import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One archiver at a time writes a state folder; the others are told who holds it, and readers are not held up.
@Suite struct StateFolderLockTests {
    @Test func aSecondWriterIsToldWhichArchiverHoldsTheStateFolderAndReadersGoOn() throws {
        let folder = TemporaryFolder("lock")
        defer { folder.remove() }
        let counts = try SampleFeed.write(0..<1000, to: folder("feed.jsonl"))
        _ = try SampleFeed.write(0..<10, to: folder("other.jsonl"))
        let first = try BuiltBinary.start(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state"], in: folder.path)
        defer { if first.process.isRunning { first.signal(SIGKILL) } }
        // Wait for it to hold the folder and to have archived everything.
        let deadline = Date().addingTimeInterval(60)
        while (folder.files(under: "archive").count < counts.removes || (try? String(contentsOfFile: folder("state/lock"), encoding: .utf8)) != "\(first.pid)\n")
            && Date() < deadline
        {
            usleep(100_000)
        }
        #expect(first.process.isRunning, "the first tail ended: \(first.standardErrorSoFar)")

        // Writers: another tail (even of another source), dlq retry, dlq drop.
        let writers: [[String]] = [
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"],
            ["tail", "--source", "jsonl:other.jsonl", "--archive", "archive", "--state", "state", "--once"],
            ["dlq", "retry", "--archive", "archive", "--state", "state"],
            ["dlq", "drop", "abc", "--state", "state"],
        ]
        for arguments in writers {
            let started = Date()
            let second = try BuiltBinary.run(arguments, in: folder.path)
            #expect(second.status != 0, "\(arguments) ran alongside the tail: \(second.stdout)")
            #expect(second.stderr.contains("another archiver (pid \(first.pid)) is using the state folder \(folder("state"))"), "\(arguments): \(second.stderr)")
            #expect(second.stderr.contains("kill -TERM \(first.pid)") && second.stderr.contains("--state"), "\(arguments): \(second.stderr)")
            #expect(!second.stderr.contains("database is locked"), "\(second.stderr)")
            #expect(Date().timeIntervalSince(started) < 8, "\(arguments) waited before refusing")
        }

        // Readers work alongside it.
        let list = try BuiltBinary.run(["dlq", "list", "--state", "state", "--json"], in: folder.path)
        #expect(list.status == 0, "\(list.stderr)")
        let entries = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        #expect(entries.count == counts.malformed + counts.removesWithoutImage)
        let show = try BuiltBinary.run(["dlq", "show", entries[0]["id"] as! String, "--state", "state"], in: folder.path)
        #expect(show.status == 0, "\(show.stderr)")
        let ls = try BuiltBinary.run(["ls", "--archive", "archive", "--json"], in: folder.path)
        #expect(ls.status == 0, "\(ls.stderr)")
        #expect((try JSONSerialization.jsonObject(with: Data(ls.stdout.utf8)) as! [Any]).count == counts.removes)

        // Once it has stopped, the folder is free again.
        first.signal(SIGTERM)
        let stopped = first.finish()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        let after = try BuiltBinary.run(["tail", "--source", "jsonl:other.jsonl", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
        #expect(after.status == 0, "\(after.stderr)")
    }

    @Test func aKilledHolderLeavesTheFolderFree() throws {
        let folder = TemporaryFolder("lock-killed")
        defer { folder.remove() }
        _ = try SampleFeed.write(0..<100, to: folder("feed.jsonl"))
        let first = try BuiltBinary.start(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state"], in: folder.path)
        let deadline = Date().addingTimeInterval(60)
        while (try? String(contentsOfFile: folder("state/lock"), encoding: .utf8)) != "\(first.pid)\n" && Date() < deadline { usleep(50_000) }
        first.signal(SIGKILL)
        _ = first.finish()
        let next = try BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
        #expect(next.status == 0, "\(next.stderr)")
    }
}
