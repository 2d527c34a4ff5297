import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// `archiver erase` through the built binary: a dry run, a real run with its receipt, and SIGKILLs during a large
/// erase while a tail archives new records of the same subject.
@Suite(.serialized) struct EraseEndToEndTests {
    /// Line `i`: a REMOVE of item `ITEM#i` of user `victim` (every second line) or of `u<i % 97>`.
    static func user(_ i: Int) -> String { i % 2 == 0 ? "victim" : "u\(i % 97)" }

    static func line(_ i: Int) -> String {
        let user = user(i)
        let image = #"{"PK":{"S":"USER#\#(user)"},"SK":{"S":"ITEM#\#(i)"},"n":{"N":"\#(i)"}}"#
        return #"{"eventID":"e\#(i)","eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + i),"Keys":{"PK":{"S":"USER#\#(user)"},"SK":{"S":"ITEM#\#(i)"}},"OldImage":\#(image),"SequenceNumber":"\#(900_000 + i)"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/users/stream/x"}"#
    }

    static let configuration = """
        state: state
        archive: archive
        roots:
          files: @FILES@
        rules:
          - name: users
            match: {table: users}
            subject: "{Keys.PK.S|strip-prefix:USER#}"
        erasure:
          actions:
            - delete-prefix: {root: files, prefix: "users/{subject}/"}
        """

    /// The archived records' sequence numbers (the lines), by user.
    static func archived(_ folder: TemporaryFolder) -> [Int] {
        var lines: [Int] = []
        let walker = FileManager.default.enumerator(atPath: folder("archive"))
        while let path = walker?.nextObject() as? String {
            guard path.hasSuffix(".json.gz"), let key = ArchiveKey(path: path), let sequence = Int(key.sequence) else { continue }
            lines.append(sequence - 900_000)
        }
        return lines.sorted()
    }

    static func setUp(_ folder: TemporaryFolder) throws {
        try configuration.replacingOccurrences(of: "@FILES@", with: folder("files"))
            .write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        for user in ["victim", "u1", "u2"] {
            try FileManager.default.createDirectory(atPath: folder("files/users/\(user)/sub"), withIntermediateDirectories: true)
            try Data(user.utf8).write(to: URL(fileURLWithPath: folder("files/users/\(user)/sub/f.txt")))
        }
    }

    static func append(_ range: Range<Int>, to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        handle.write(Data(range.map { line($0) + "\n" }.joined().utf8))
        try handle.close()
    }

    @Test func dryRunListsWhatARealRunErasesAndTheReceiptCountsIt() async throws {
        let folder = TemporaryFolder("erase-e2e")
        defer { folder.remove() }
        try Self.setUp(folder)
        try Self.append(0..<400, to: folder("feed.jsonl"))
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        let before = Self.archived(folder)
        #expect(before.count == 400)

        let dry = try await BuiltBinary.run(["erase", "--subject", "victim", "--dry-run", "--json", "--config", "archiver.yml"], in: folder.path)
        #expect(dry.status == 0, "\(dry.stderr)")
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])
        #expect(manifest["records"] as? Int == 200 && manifest["objects_to_delete"] as? Int == 200)
        #expect((manifest["objects"] as? [String: Any])?["known"] as? Bool == false, "a folder has no storage classes")
        #expect(Self.archived(folder) == before, "a dry run changes nothing")
        #expect(!dry.stdout.contains("\"victim\""), "the manifest holds the subject's HMAC, not the subject")

        // An analysis copy of the month, made before the erasure: the receipt names it for the operator to purge.
        let sync = try await BuiltBinary.run(["sync", "2024-01", "copy", "--archive", "archive", "--state", "state"], in: folder.path)
        #expect(sync.status == 0, "\(sync.stderr)")

        let real = try await BuiltBinary.run(["erase", "--subject", "victim", "--json", "--config", "archiver.yml"], in: folder.path)
        #expect(real.status == 0, "\(real.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(real.stdout.utf8)) as? [String: Any])
        let job = try #require((out["jobs"] as? [[String: Any]])?.first)
        let receipt = try #require(job["receipt"] as? [String: Any])
        let copies = receipt["analysis_copies"] as? [[String: Any]] ?? []
        #expect(copies.count == 1 && (copies.first?["destination"] as? String)?.hasSuffix("/copy") == true && copies.first?["month"] as? String == "2024-01")
        #expect((receipt["counts"] as? [String: [String: Int]])?["archive"]?["delete.deleted"] == 200)
        #expect(Self.archived(folder) == before.filter { Self.user($0) != "victim" })
        #expect(!FileManager.default.fileExists(atPath: folder("files/users/victim/sub/f.txt")))
        #expect(FileManager.default.fileExists(atPath: folder("files/users/u1/sub/f.txt")))

        let id = try #require(receipt["job"] as? String)
        let status = try await BuiltBinary.run(["erase", "status", id, "--config", "archiver.yml"], in: folder.path)
        #expect(status.status == 0 && status.stdout.contains("completed"), "\(status.stdout)\(status.stderr)")
        let verify = try await BuiltBinary.run(["erase", "verify", "--config", "archiver.yml"], in: folder.path)
        #expect(verify.status == 0 && verify.stdout.contains("1 receipts"), "\(verify.stdout)\(verify.stderr)")

        // A later record of the subject is suppressed; restore refuses a copy of an erased record.
        try Self.append(400..<410, to: folder("feed.jsonl"))
        let again = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once", "--json"], in: folder.path)
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        #expect(summary["suppressed"] as? Int == 5 && summary["archived"] as? Int == 5, "\(again.stdout)")

        let refused = try await BuiltBinary.run(["erase", "--subject", "", "--config", "archiver.yml"], in: folder.path)
        #expect(refused.status != 0 && refused.stderr.contains("empty"))
    }

    /// A job's state, as `erase status --json` says it.
    static func state(of job: String, in folder: TemporaryFolder) async throws -> String? {
        let status = try await BuiltBinary.run(["erase", "status", job, "--json", "--config", "archiver.yml"], in: folder.path)
        return (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["state"] as? String
    }

    @Test func killedErasuresWhileATailArchivesTheSubjectLeaveNoneOfItsRecords() async throws {
        let folder = TemporaryFolder("erase-crash")
        defer { folder.remove() }
        try Self.setUp(folder)
        let kills = Soak.kills(20)
        let first = Soak.records(60_000)
        try Self.append(0..<first, to: folder("feed.jsonl"))
        let initial = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once"], in: folder.path)
        #expect(initial.status == 0, "\(initial.stderr)")

        // The job is asked for (queued only), then carried out by runs killed at random moments while a tail follows
        // the feed, to which records of the same subject keep arriving.
        let ask = try await BuiltBinary.run(["erase", "--subject", "victim", "--queue-only", "--json", "--config", "archiver.yml"], in: folder.path)
        #expect(ask.status == 0, "\(ask.stderr)")
        let job = try #require((try JSONSerialization.jsonObject(with: Data(ask.stdout.utf8)) as? [String: Any])?["job"] as? String)
        let follower = try BuiltBinary.start(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml"], in: folder.path)
        var generator = SystemRandomNumberGenerator()
        var written = first
        var killedAtWork = 0
        for _ in 0..<kills {
            try Self.append(written..<(written + 40), to: folder("feed.jsonl"))
            written += 40
            let run = try BuiltBinary.start(["erase", "run", "--config", "archiver.yml"], in: folder.path)
            try await Task.sleep(for: .milliseconds(Int.random(in: 20...150, using: &generator)))
            run.signal(SIGKILL)
            let result = await run.finish()
            #expect(!result.crashed, "crashed before it was killed: \(result.stderr)")
            // At work: killed before it ended, with the job not yet done (a run after the job ends has nothing to do).
            if run.endedBySignal, try await Self.state(of: job, in: folder) != "completed" { killedAtWork += 1 }
        }
        try Self.append(written..<(written + 40), to: folder("feed.jsonl"))
        written += 40
        try await Task.sleep(for: .milliseconds(1500))
        follower.signal(SIGTERM)
        let followed = await follower.finish()
        #expect(followed.status == 0, "\(followed.stderr)")
        let last = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once"], in: folder.path)
        #expect(last.status == 0, "\(last.stderr)")

        // The job is continued to its end; a follow-up for records archived while it ran is carried out too.
        let due = try await BuiltBinary.run(["erase", "run", "--config", "archiver.yml"], in: folder.path)
        #expect(due.status == 0, "\(due.stderr)")

        let archived = Self.archived(folder)
        #expect(!archived.contains { Self.user($0) == "victim" }, "a record of the erased subject survived")
        #expect(archived == (0..<written).filter { Self.user($0) != "victim" }, "every other record is archived, once")
        #expect(!FileManager.default.fileExists(atPath: folder("files/users/victim/sub/f.txt")))
        #expect(FileManager.default.fileExists(atPath: folder("files/users/u1/sub/f.txt")))
        #expect(try await Self.state(of: job, in: folder) == "completed")
        let verify = try await BuiltBinary.run(["erase", "verify", "--config", "archiver.yml"], in: folder.path)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(killedAtWork >= kills / 4, "erase was rarely killed at work (\(killedAtWork) of \(kills))")
        CrashReport.line("erase during a tail", "\(kills) kills (\(killedAtWork) at work), \(written) lines, \(first / 2) records of the subject erased")
    }

    /// An archive made before subjects were named: `index rebuild` indexes it from the objects, and `erase --scan`
    /// finds a subject's records with a state folder that has no index at all; both layouts.
    @Test(arguments: ["per-record", "batched"])
    func anArchiveWithoutAnIndexIsRebuiltOrScanned(layout: String) async throws {
        let folder = TemporaryFolder("erase-rebuild")
        defer { folder.remove() }
        try Self.setUp(folder)
        let withSubject = try String(contentsOfFile: folder("archiver.yml"), encoding: .utf8)
        try withSubject.replacingOccurrences(of: "    subject: \"{Keys.PK.S|strip-prefix:USER#}\"\n", with: "    actions:\n      - delete-object: {root: files, key: \"x/{Keys.SK.S}\"}\n")
            .write(toFile: folder("old.yml"), atomically: true, encoding: .utf8)
        try Self.append(0..<600, to: folder("feed.jsonl"))
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "old.yml", "--once", "--layout", layout], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")

        func dryRecords(_ extra: [String] = []) async throws -> Int? {
            let dry = try await BuiltBinary.run(["erase", "--subject", "victim", "--dry-run", "--json", "--config", "archiver.yml"] + extra, in: folder.path)
            #expect(dry.status == 0, "\(dry.stderr)")
            return (try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])?["records"] as? Int
        }
        #expect(try await dryRecords() == 0, "no index yet")
        #expect(try await dryRecords(["--scan"]) == 300, "a scan finds the subject's records without the index")
        let rebuild = try await BuiltBinary.run(["index", "rebuild", "--json", "--config", "archiver.yml"], in: folder.path)
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        let counts = try JSONSerialization.jsonObject(with: Data(rebuild.stdout.utf8)) as? [String: Any]
        #expect(counts?["records"] as? Int == 600 && counts?["subjects"] as? Int == 98, "\(rebuild.stdout)")
        #expect(try await dryRecords() == 300)

        let real = try await BuiltBinary.run(["erase", "--subject", "victim", "--config", "archiver.yml"], in: folder.path)
        #expect(real.status == 0, "\(real.stderr)")
        let listed = try await BuiltBinary.run(["ls", "--archive", "archive", "--json"], in: folder.path)
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(!listed.stdout.contains("USER#victim") && listed.stdout.contains("USER#u1_"), "\(listed.stdout.prefix(300))")
    }
}
