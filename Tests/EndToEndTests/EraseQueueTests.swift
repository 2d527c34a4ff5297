import ArchiverCore
import Foundation
import Testing
import TestSupport

/// A scheduled erasure is a queue entry: `queue list` and `queue stats` show it, `queue cancel` cancels it, and
/// `queue run` carries out a due one — through the built binary.
@Suite(.serialized) struct EraseQueueEndToEndTests {
    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func aScheduledErasureIsListedCountedAndCancelledThroughTheQueue() async throws {
        let folder = TemporaryFolder("erase-queue-e2e")
        defer { folder.remove() }
        try EraseEndToEndTests.setUp(folder)
        try EraseEndToEndTests.append(0..<40, to: folder("feed.jsonl"))
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        let before = EraseEndToEndTests.archived(folder)

        let asked = try await BuiltBinary.run(["erase", "--subject", "victim", "--after", "30d", "--json", "--config", "archiver.yml"], in: folder.path)
        #expect(asked.status == 0, "\(asked.stderr)")
        let id = try #require((try Self.json(asked.stdout) as? [String: Any])?["job"] as? String)

        // Listed with the queue's entries, as a scheduled one.
        let list = try await BuiltBinary.run(["queue", "list", "--config", "archiver.yml"], in: folder.path)
        #expect(list.status == 0 && list.stdout.contains(id) && list.stdout.contains("scheduled"), "\(list.stdout)\(list.stderr)")
        let listJSON = try await BuiltBinary.run(["queue", "list", "--json", "--config", "archiver.yml"], in: folder.path)
        let listed = try #require(try Self.json(listJSON.stdout) as? [[String: Any]])
        #expect(listed.contains { $0["erasure_job"] as? String == id && $0["state"] as? String == "scheduled" }, "\(listJSON.stdout)")
        let onlyParked = try await BuiltBinary.run(["queue", "list", "--state", "parked", "--config", "archiver.yml"], in: folder.path)
        #expect(!onlyParked.stdout.contains(id), "a state filter applies to erasure jobs too")

        // Counted.
        let stats = try await BuiltBinary.run(["queue", "stats", "--json", "--config", "archiver.yml"], in: folder.path)
        let counts = try #require((try Self.json(stats.stdout) as? [String: Any])?["erasure_jobs"] as? [String: Int], "\(stats.stdout)")
        #expect(counts["scheduled"] == 1 && counts["available"] == 0)
        let statsText = try await BuiltBinary.run(["queue", "stats", "--config", "archiver.yml"], in: folder.path)
        #expect(statsText.stdout.contains("erasure jobs"), "\(statsText.stdout)")

        // Not due: `queue run` leaves it, and the archive, alone.
        let run = try await BuiltBinary.run(["queue", "run", "--once", "--config", "archiver.yml"], in: folder.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(EraseEndToEndTests.archived(folder) == before)

        // Cancelled by its id (a prefix will do), as `erase cancel` would.
        let cancel = try await BuiltBinary.run(["queue", "cancel", String(id.prefix(10)), "--config", "archiver.yml"], in: folder.path)
        #expect(cancel.status == 0 && cancel.stdout.contains("cancelled erasure job \(id)"), "\(cancel.stdout)\(cancel.stderr)")
        let status = try await BuiltBinary.run(["erase", "status", id, "--json", "--config", "archiver.yml"], in: folder.path)
        #expect((try Self.json(status.stdout) as? [String: Any])?["state"] as? String == "cancelled", "\(status.stdout)")
        let after = try await BuiltBinary.run(["queue", "stats", "--json", "--config", "archiver.yml"], in: folder.path)
        #expect(((try Self.json(after.stdout) as? [String: Any])?["erasure_jobs"] as? [String: Int])?["scheduled"] == 0)
        let unknown = try await BuiltBinary.run(["queue", "cancel", "er-ffff", "--config", "archiver.yml"], in: folder.path)
        #expect(unknown.status != 0 && unknown.stderr.contains("no erasure job 'er-ffff'"), "\(unknown.stderr)")

        // A due job is an available entry, and `queue run` carries it out.
        let now = try await BuiltBinary.run(["erase", "--subject", "u1", "--queue-only", "--json", "--config", "archiver.yml"], in: folder.path)
        #expect(now.status == 0, "\(now.stderr)")
        let due = try await BuiltBinary.run(["queue", "stats", "--json", "--config", "archiver.yml"], in: folder.path)
        #expect(((try Self.json(due.stdout) as? [String: Any])?["erasure_jobs"] as? [String: Int])?["available"] == 1, "\(due.stdout)")
        let carried = try await BuiltBinary.run(["queue", "run", "--once", "--config", "archiver.yml"], in: folder.path)
        #expect(carried.status == 0, "\(carried.stderr)")
        #expect(EraseEndToEndTests.archived(folder) == before.filter { EraseEndToEndTests.user($0) != "u1" })
        #expect(!before.filter { EraseEndToEndTests.user($0) == "u1" }.isEmpty)
    }

    @Test func aRecordArchivedByDLQRetryIsIndexedUnderItsSubject() async throws {
        let folder = TemporaryFolder("erase-dlq-e2e")
        defer { folder.remove() }
        try EraseEndToEndTests.setUp(folder)
        try EraseEndToEndTests.append(0..<40, to: folder("feed.jsonl"))
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        // A record of the subject that had been dead-lettered (the store refused it, say), retried now.
        let letter = DeadLetter(
            source: "jsonl:feed.jsonl", partition: "", position: "line 43", reason: "the archive store refused the object", code: "write-failed",
            raw: Array(EraseEndToEndTests.line(42).utf8), at: Date())
        try await DeadLetterFolder(stateFolder: folder("state")).write([letter])
        let retry = try await BuiltBinary.run(["dlq", "retry", "--config", "archiver.yml", "--json"], in: folder.path)
        #expect(retry.status == 0 && retry.stdout.contains("\"archived\" : 1"), "\(retry.stdout)\(retry.stderr)")

        let dry = try await BuiltBinary.run(["erase", "--subject", "victim", "--dry-run", "--json", "--config", "archiver.yml"], in: folder.path)
        let manifest = try #require(try Self.json(dry.stdout) as? [String: Any], "\(dry.stdout)\(dry.stderr)")
        #expect(manifest["records"] as? Int == 21, "the 20 tailed records and the retried one")
        let real = try await BuiltBinary.run(["erase", "--subject", "victim", "--config", "archiver.yml"], in: folder.path)
        #expect(real.status == 0, "\(real.stderr)")
        #expect(!EraseEndToEndTests.archived(folder).contains { EraseEndToEndTests.user($0) == "victim" }, "the retried record is erased too")
    }
}
