import Foundation
import Testing
import TestSupport

/// `queue retry | cancel | drop` on entries held by a coordination, through the built binary: retry and drop leave
/// them alone and say why; cancel cancels the action, the coordination still completes once its consumer answered,
/// and its `deletion.completed` lists the action as cancelled.
@Suite("Queue commands on held entries")
struct CoordinationHeldEntriesTests {
    static func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func retryAndDropLeaveHeldEntriesAloneAndCancelIsReportedOnTheCoordination() async throws {
        let folder = TemporaryFolder("coordination-held")
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder("files"), withIntermediateDirectories: true)
        var lines: [String] = []
        for n in 0..<3 {
            try Data([1]).write(to: URL(fileURLWithPath: folder("files/\(n)")))
            lines.append(#"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"F\#(n)"}},"OldImage":{"path":{"S":"\#(n)"}},"SequenceNumber":"\#(10_000 + n)"},"eventSourceARN":"arn:aws:dynamodb:r:1:table/files/stream/x"}"#)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        try """
            state: state
            archive: archive
            roots: {files: \(folder("files"))}
            rules:
              - name: files
                match: {table: files}
                actions: [{delete-object: {root: files, key: "{OldImage.path.S}"}}]
                coordinate: {consumers: [analytics]}
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once", "--no-queue"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")

        // retry: a held entry has not failed; it is left alone, and the output says why and where to look.
        let retry = try await BuiltBinary.run(["queue", "retry", "--state", "held", "--config", "archiver.yml", "--json"], in: folder.path)
        #expect(retry.status == 0, "\(retry.stderr)")
        let retried = Self.json(retry.stdout) as? [String: Int]
        #expect(retried?["retried"] == 0 && retried?["left_alone"] == 3 && retried?["held_left_alone"] == 3, "\(retry.stdout)")
        let retryText = try await BuiltBinary.run(["queue", "retry", "--state", "held", "--config", "archiver.yml"], in: folder.path)
        #expect(retryText.stdout.contains("3 of them held") && retryText.stdout.contains("coordination"), "\(retryText.stdout)")

        // drop: refused for held entries (the coordination reports every action it held); they stay.
        let drop = try await BuiltBinary.run(["queue", "drop", "--state", "held", "--config", "archiver.yml"], in: folder.path)
        #expect(drop.status == 0, "\(drop.stderr)")
        #expect(drop.stdout.contains("dropped 0 entries") && drop.stdout.contains("coordination cancel"), "\(drop.stdout)")
        let list = try await BuiltBinary.run(["queue", "list", "--state", "held", "--config", "archiver.yml", "--json"], in: folder.path)
        let held = (Self.json(list.stdout) as? [[String: Any]]) ?? []
        #expect(held.count == 3)

        // cancel one held entry: its coordination still waits, then completes and reports the action cancelled.
        let entry = try #require(held.first { ($0["target"] as? [String: Any])?["key"] as? String == "0" } ?? held.first)
        let entryID = try #require(entry["id"] as? String)
        let coordination = try #require(entry["hold"] as? String)
        let cancel = try await BuiltBinary.run(["queue", "cancel", entryID, "--config", "archiver.yml", "--json"], in: folder.path)
        #expect((Self.json(cancel.stdout) as? [String: Int])?["cancelled"] == 1, "\(cancel.stdout) \(cancel.stderr)")
        _ = try await BuiltBinary.run(["queue", "run", "--once", "--config", "archiver.yml"], in: folder.path)
        let events = ((try? String(contentsOfFile: folder("state/events.jsonl"), encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { Self.json(String($0)) as? [String: Any] }
        let ids = events.filter { $0["type"] as? String == "deletion.requested" }.compactMap { ($0["data"] as? [String: Any])?["coordination_id"] as? String }
        #expect(ids.count == 3 && ids.contains(coordination))
        #expect(!events.contains { $0["type"] as? String == "deletion.completed" }, "nobody has acked yet")
        let acks = ids.map { #"{"coordination_id":"\#($0)","consumer":"analytics"}"# }.joined(separator: "\n")
        try acks.write(toFile: folder("acks.jsonl"), atomically: true, encoding: .utf8)
        let ack = try await BuiltBinary.run(["ack", "--file", "acks.jsonl", "--config", "archiver.yml"], in: folder.path)
        #expect(ack.status == 0, "\(ack.stderr)")
        let run = try await BuiltBinary.run(["queue", "run", "--once", "--config", "archiver.yml"], in: folder.path)
        #expect(run.status == 0, "\(run.stderr)")
        let after = ((try? String(contentsOfFile: folder("state/events.jsonl"), encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { Self.json(String($0)) as? [String: Any] }
        let completed = after.filter { $0["type"] as? String == "deletion.completed" }
        #expect(completed.count == 3)
        let mine = try #require(completed.first { $0["subject"] as? String == coordination })
        let actions = ((mine["data"] as? [String: Any])?["actions"] as? [[String: Any]]) ?? []
        #expect(actions.count == 1 && actions.first?["id"] as? String == entryID && actions.first?["state"] as? String == "cancelled", "\(actions)")
        let cancelledKey = (entry["target"] as? [String: Any])?["key"] as? String ?? ""
        #expect(FileManager.default.fileExists(atPath: folder("files/\(cancelledKey)")), "the cancelled action never ran")
        #expect(folder.files(under: "files").count == 1, "the other two files went once their coordinations were released")
    }
}
