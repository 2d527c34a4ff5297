import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// SIGKILL the tail at random moments while the feed grows, restart it each time, and compare the
/// archive with a clean run's: one object per REMOVE, byte-equal, no temporary files, nothing lost.
@Suite(.serialized) struct CrashTests {
    /// Kills and records: the bounded form runs in CI; ARCHIVER_SOAK_KILLS / ARCHIVER_SOAK_RECORDS make it longer.
    static let kills = Int(ProcessInfo.processInfo.environment["ARCHIVER_SOAK_KILLS"] ?? "") ?? 24
    static let records = Int(ProcessInfo.processInfo.environment["ARCHIVER_SOAK_RECORDS"] ?? "") ?? 24_000

    @Test func killedTailLosesNothingAndDuplicatesNothing() throws {
        let folder = TemporaryFolder("crash")
        defer { folder.remove() }
        let (text, counts) = SampleFeed.text(0..<Self.records)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0 + "\n" }

        // The clean run, all at once.
        try Data(text.utf8).write(to: URL(fileURLWithPath: folder("clean.jsonl")))
        let clean = try BuiltBinary.run(["tail", "--source", "jsonl:clean.jsonl", "--archive", "clean-archive", "--state", "clean-state", "--once", "--json"], in: folder.path)
        #expect(clean.status == 0, "\(clean.stderr)")

        // The crash run: a writer appends while the tail follows; the tail is killed at random moments.
        let feed = folder("feed.jsonl")
        _ = FileManager.default.createFile(atPath: feed, contents: nil)
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: feed))
        var written = 0
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        while kills < Self.kills {
            let tail = try BuiltBinary.start(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state"], in: folder.path)
            // Append a slice of the feed — sometimes ending mid-line — while the tail runs.
            let slice = max(1, (lines.count - written) / max(1, Self.kills - kills))
            var chunk = lines[written..<min(lines.count, written + slice)].joined()
            written = min(lines.count, written + slice)
            if Bool.random(using: &generator), written < lines.count {
                let cut = Int.random(in: 1..<lines[written].utf8.count, using: &generator)
                chunk += String(decoding: Array(lines[written].utf8)[0..<cut], as: UTF8.self)
                writer.write(Data(chunk.utf8))
                usleep(UInt32.random(in: 20_000...120_000, using: &generator))
                writer.write(Data(Array(lines[written].utf8)[cut...]))
                written += 1
            } else {
                writer.write(Data(chunk.utf8))
            }
            usleep(UInt32.random(in: 50_000...600_000, using: &generator))
            tail.signal(SIGKILL)
            let result = tail.finish()
            #expect(result.status != 0, "the tail should have been killed, not exited")
            kills += 1
        }
        writer.write(Data(lines[written...].joined().utf8))
        try writer.close()
        let last = try BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path)
        #expect(last.status == 0, "\(last.stderr)")

        // One object per REMOVE with an image, each byte-equal to the clean run's.
        let cleanFiles = folder.files(under: "clean-archive").filter { !$0.hasPrefix(".tmp") }
        let crashFiles = folder.files(under: "archive").filter { !$0.hasPrefix(".tmp") }
        #expect(cleanFiles.count == counts.removes)
        #expect(crashFiles == cleanFiles)
        for file in crashFiles {
            let a = FileManager.default.contents(atPath: folder("archive/" + file))
            let b = FileManager.default.contents(atPath: folder("clean-archive/" + file))
            #expect(a == b, "\(file) differs from the clean run's")
        }
        // No temporary files left, in the archive or the dead-letter folder.
        #expect(folder.files(under: "archive/.tmp").isEmpty)
        #expect(folder.files(under: "state/dead-letters/.tmp").isEmpty)
        // The same dead letters as the clean run, every one readable.
        let cleanLetters = folder.files(under: "clean-state/dead-letters").filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        let crashLetters = folder.files(under: "state/dead-letters").filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        #expect(cleanLetters.count == counts.malformed + counts.removesWithoutImage)
        // Entry ids name the source file, which differs between the runs: compare place, reason and bytes.
        func letters(_ state: String, _ files: [String]) throws -> Set<String> {
            Set(try files.map { file in
                let data = try #require(FileManager.default.contents(atPath: folder("\(state)/dead-letters/" + file)))
                let entry = try JSONDecoder().decode(DeadLetter.self, from: data)
                return "\(entry.position) \(entry.code) \(entry.raw)"
            })
        }
        #expect(crashLetters.count == cleanLetters.count)
        #expect(try letters("state", crashLetters) == letters("clean-state", cleanLetters))
        #expect(kills >= 20)
    }
}
