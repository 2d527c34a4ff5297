import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The built `archiver`, run as a user runs it.
@Suite struct CommandLineTests {
    /// A folder with a feed archived once.
    struct Archived {
        let folder = TemporaryFolder("cli")
        let counts: SampleFeed.Counts
        let summary: [String: Any]

        init(records: Int = 1000) throws {
            counts = try SampleFeed.write(0..<records, to: folder("feed.jsonl"))
            let run = try BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path)
            guard run.status == 0 else { throw ConformanceError("tail failed: \(run.stderr)") }
            summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        }

        func run(_ arguments: [String], stdin: String? = nil) throws -> BuiltBinary.Result {
            try BuiltBinary.run(arguments, in: folder.path, stdin: stdin)
        }
    }

    struct ConformanceError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    @Test func tailOnceSummarises() throws {
        let a = try Archived()
        defer { a.folder.remove() }
        #expect(a.summary["read"] as? Int == a.counts.total)
        #expect(a.summary["archived"] as? Int == a.counts.removes)
        #expect(a.summary["archived_ttl"] as? Int == a.counts.removesTTL)
        #expect(a.summary["archived_manual"] as? Int == a.counts.removesManual)
        #expect(a.summary["passed_over"] as? Int == a.counts.inserts + a.counts.modifies)
        #expect(a.summary["dead_lettered"] as? Int == a.counts.malformed + a.counts.removesWithoutImage)
        // For people: aligned rows.
        let text = try a.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("read           0"))
    }

    @Test func lsListsFiltersAndFindsAnItem() throws {
        let a = try Archived()
        defer { a.folder.remove() }
        let all = try a.run(["ls", "--archive", "archive", "--json"])
        let entries = try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as! [[String: Any]]
        #expect(entries.count == a.counts.removes)
        #expect(entries.filter { $0["kind"] as? String == "ttl" }.count == a.counts.removesTTL)
        let ttl = try a.run(["ls", "--archive", "archive", "--kind", "ttl"])
        #expect(ttl.stdout.split(separator: "\n").count == a.counts.removesTTL)
        let day = try a.run(["ls", "--archive", "archive", "--date", "2024-01-15", "--json"])
        let dayEntries = try JSONSerialization.jsonObject(with: Data(day.stdout.utf8)) as! [[String: Any]]
        #expect(!dayEntries.isEmpty && dayEntries.allSatisfy { ($0["key"] as! String).hasPrefix("2024/01/15/") })
        // One item's deletions, by its key values as ls prints them, or with a wildcard.
        let item = try a.run(["ls", "--archive", "archive", "--item", "USER#7_ITEM#7/../x", "--json"])
        let itemEntries = try JSONSerialization.jsonObject(with: Data(item.stdout.utf8)) as! [[String: Any]]
        #expect(itemEntries.count == 1)
        let wild = try a.run(["ls", "--archive", "archive", "--item", "USER#7_*", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(wild.stdout.utf8)) as! [Any]).count == 1)
        let bad = try a.run(["ls", "--archive", "archive", "--month", "2024-13"])
        #expect(bad.status != 0 && bad.stderr.contains("YYYY-MM"))
    }

    @Test func restorePrintsTheItemAsDynamoDBJSON() throws {
        let a = try Archived()
        defer { a.folder.remove() }
        let list = try a.run(["ls", "--archive", "archive", "--item", "USER#7_*", "--json"])
        let key = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]])[0]["key"] as! String
        let restored = try a.run(["restore", key, "--archive", "archive", "--to", "-"])
        #expect(restored.status == 0, "\(restored.stderr)")
        // Exactly the OldImage of the archived record.
        let record = try gunzip(Array(try Data(contentsOf: URL(fileURLWithPath: a.folder("archive/" + key)))))
        let image = try JSONValue.parse(record)["dynamodb"]!["OldImage"]!
        let printed = try JSONValue.parse(restored.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(try Item(dynamoJSON: printed) == Item(dynamoJSON: image))
        #expect(restored.stdout.contains("\"12345678901234567890123456789012345678\""))
        let missing = try a.run(["restore", "2024/01/15/NOPE.000000.1.manual.json.gz", "--archive", "archive", "--to", "-"])
        #expect(missing.status != 0 && missing.stderr.contains("archiver ls"))
        let prefix = try a.run(["restore", "--prefix", "2024/01/15", "--archive", "archive", "--to", "-"])
        #expect(prefix.status == 0)
        let expected = try a.run(["ls", "--archive", "archive", "--date", "2024-01-15"]).stdout.split(separator: "\n").count
        #expect(prefix.stdout.split(separator: "\n").count == expected)
    }

    @Test func syncCopiesAMonthAndWritesJSONLines() throws {
        let a = try Archived()
        defer { a.folder.remove() }
        let first = try a.run(["sync", "2024-01", "copy", "--archive", "archive", "--jsonl", "january.jsonl", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as! [String: Any]
        let inMonth = a.folder.files(under: "archive").filter { $0.hasPrefix("2024/01/") }
        #expect(summary["copied"] as? Int == inMonth.count)
        #expect(a.folder.files(under: "copy").filter { !$0.hasPrefix(".") } == inMonth)
        for file in inMonth {
            #expect(FileManager.default.contents(atPath: a.folder("copy/" + file)) == FileManager.default.contents(atPath: a.folder("archive/" + file)))
        }
        let lines = try String(contentsOfFile: a.folder("january.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == inMonth.count)
        #expect(lines.allSatisfy { $0.contains("\"eventName\":\"REMOVE\"") })
        // Again: everything is already there and identical.
        let second = try a.run(["sync", "2024-01", "copy", "--archive", "archive", "--json"])
        let again = try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as! [String: Any]
        #expect(again["copied"] as? Int == 0)
        #expect(again["skipped"] as? Int == inMonth.count)
        // A damaged copy is replaced.
        try Data("damaged".utf8).write(to: URL(fileURLWithPath: a.folder("copy/" + inMonth[0])))
        let third = try a.run(["sync", "2024-01", "copy", "--archive", "archive", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(third.stdout.utf8)) as! [String: Any])["copied"] as? Int == 1)
    }

    @Test func deadLettersCanBeListedShownRetriedAndDropped() throws {
        let a = try Archived()
        defer { a.folder.remove() }
        let list = try a.run(["dlq", "list", "--state", "state", "--json"])
        let entries = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        #expect(entries.count == a.counts.malformed + a.counts.removesWithoutImage)
        let id = entries[0]["id"] as! String
        let show = try a.run(["dlq", "show", id, "--state", "state"])
        #expect(show.status == 0 && show.stdout.contains("reason") && show.stdout.contains("eventName"))
        // Retrying records that are still bad keeps them, with one more attempt.
        let retry = try a.run(["dlq", "retry", "--archive", "archive", "--state", "state", "--json"])
        let retried = try JSONSerialization.jsonObject(with: Data(retry.stdout.utf8)) as! [String: Any]
        #expect(retried["still_failing"] as? Int == entries.count)
        let after = try a.run(["dlq", "show", id, "--state", "state", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as! [String: Any])["attempts"] as? Int == 2)
        let drop = try a.run(["dlq", "drop", id, "--state", "state"])
        #expect(drop.status == 0)
        let gone = try a.run(["dlq", "show", id, "--state", "state"])
        #expect(gone.status != 0 && gone.stderr.contains("dlq list"))
    }

    @Test func aRepairedDeadLetterIsArchivedOnRetry() throws {
        let folder = TemporaryFolder("cli")
        defer { folder.remove() }
        // A record the archive refuses to write: the archive folder's date folder is a file.
        let record = #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1705315800,"Keys":{"PK":{"S":"A"}},"OldImage":{"PK":{"S":"A"}},"SequenceNumber":"1"}}"#
        try Data((record + "\n").utf8).write(to: URL(fileURLWithPath: folder("feed.jsonl")))
        try FileManager.default.createDirectory(atPath: folder("archive/2024/01"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: folder("archive/2024/01/15"), contents: Data())
        let tail = try BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(tail.stdout.contains("\"dead_lettered\" : 1"))
        try FileManager.default.removeItem(atPath: folder("archive/2024/01/15"))
        let retry = try BuiltBinary.run(["dlq", "retry", "--archive", "archive", "--state", "state", "--json"], in: folder.path)
        #expect(retry.stdout.contains("\"archived\" : 1"), "\(retry.stdout) \(retry.stderr)")
        #expect(folder.files(under: "archive/2024/01/15").count == 1)
        #expect(folder.files(under: "state/dead-letters").filter { $0.hasSuffix(".json") }.isEmpty)
    }

    @Test func sigtermFinishesSavesTheCheckpointAndExitsZero() throws {
        let folder = TemporaryFolder("cli")
        defer { folder.remove() }
        let counts = try SampleFeed.write(0..<3000, to: folder("feed.jsonl"))
        let tail = try BuiltBinary.start(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--json"], in: folder.path)
        // Wait until the tail has caught up (it follows the file afterwards).
        let deadline = Date().addingTimeInterval(60)
        while folder.files(under: "archive").filter({ !$0.hasPrefix(".") }).count < counts.removes && Date() < deadline { usleep(100_000) }
        tail.signal(SIGTERM)
        let result = tail.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(summary["read"] as? Int == counts.total)
        // The checkpoint was saved: a new run has nothing to read.
        let again = try BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path)
        #expect(again.stdout.contains("\"read\" : 0"))
    }

    @Test func badArgumentsSayWhatIsWrong() throws {
        let folder = TemporaryFolder("cli")
        defer { folder.remove() }
        let cases: [([String], String)] = [
            (["tail", "--source", "kafka:x", "--archive", "a", "--once"], "unknown source kind"),
            (["tail", "--source", "jsonl:missing.jsonl", "--archive", "a", "--once"], "missing.jsonl"),
            (["tail", "--source", "jsonl:x", "--archive", "s3://", "--once"], "names no bucket"),
            (["restore", "--prefix", "2024-01", "--archive", "a", "--to", "-"], "YYYY/MM"),
            (["restore", "k", "--archive", "a", "--to", "mysql:x"], "unknown restore target"),
            (["restore", "k", "--archive", "a", "--to", "sqlite:#t"], "'sqlite:#t' names no database; write sqlite:<db>#<table>"),
            (["restore", "k", "--archive", "a", "--to", "sqlite:app.db"], "'sqlite:app.db' names no table"),
            (["restore", "k", "--archive", "a", "--to", "sqlite:"], "names no database and no table"),
            (["lifecycle", "plan", "--archive", "a", "--now", "2024-02-30"], "--now: \"2024-02-30\" is not a day"),
            (["ls", "--archive", "a", "--date", "15/01/2024"], "YYYY-MM-DD"),
            (["sync", "January", "out", "--archive", "a"], "YYYY-MM"),
        ]
        for (arguments, expected) in cases {
            let result = try BuiltBinary.run(arguments, in: folder.path)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
    }
}
