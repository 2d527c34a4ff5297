import Foundation
import Testing
import TestSupport

/// Coordinated deletion through the built binary: 1,000 deletions whose files wait for three scripted consumers
/// reading the JSON-lines outbox (analytics, critical, acks after a delay; billing acks `failed`; search never
/// answers and times out). No file goes before its coordination is released; each coordination completes once,
/// with `deletion.completed` after its action.
@Suite("Coordinated deletion end to end")
struct CoordinationEndToEndTests {
    static func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    static func events(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { json(String($0)) as? [String: Any] }
    }

    @Test func threeConsumersAndAThousandDeletionsNoFileGoesEarly() async throws {
        let folder = TemporaryFolder("coordination-e2e")
        defer { folder.remove() }
        let count = 1_000
        var lines: [String] = []
        try FileManager.default.createDirectory(atPath: folder("files/f"), withIntermediateDirectories: true)
        for n in 0..<count {
            try Data([1]).write(to: URL(fileURLWithPath: folder("files/f/\(n)")))
            lines.append(#"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"F\#(n)"}},"OldImage":{"path":{"S":"f/\#(n)"},"owner":{"S":"private-\#(n)"}},"SequenceNumber":"\#(10_000 + n)"},"eventSourceARN":"arn:aws:dynamodb:r:1:table/files/stream/x"}"#)
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
                coordinate:
                  consumers:
                    - {name: analytics, critical: true, timeout: 10m}
                    - {name: billing}
                    - {name: search, timeout: 3s}
            events:
              source: archiver://files
            queue: {batch-size: 200, poll: 100ms}
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once", "--no-queue"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        let started = Date()

        // The coordinator delivers the outbox; nothing runs.
        let first = try await BuiltBinary.run(["queue", "run", "--config", "archiver.yml", "--once", "--json"], in: folder.path)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(folder.files(under: "files").count == count)
        let requested = Self.events(folder("state/events.jsonl")).filter { $0["type"] as? String == "deletion.requested" }
        #expect(requested.count == count)
        #expect(!Self.events(folder("state/events.jsonl")).contains { "\($0)".contains("private-") }, "the item's attributes are never published")
        let ids = requested.compactMap { ($0["data"] as? [String: Any])?["coordination_id"] as? String }
        #expect(Set(ids).count == count)

        // billing reads the file and acks failed (optional: logged, does not block).
        let billing = ids.map { #"{"coordination_id":"\#($0)","consumer":"billing","status":"failed","detail":"no ledger"}"# }.joined(separator: "\n")
        try billing.write(toFile: folder("billing.jsonl"), atomically: true, encoding: .utf8)
        let billed = try await BuiltBinary.run(["ack", "--file", "billing.jsonl", "--config", "archiver.yml", "--json"], in: folder.path)
        #expect(billed.status == 0, "\(billed.stderr)")
        #expect((Self.json(billed.stdout) as? [String: Any])?["recorded"] as? Int == count)
        _ = try await BuiltBinary.run(["queue", "run", "--config", "archiver.yml", "--once"], in: folder.path)
        #expect(folder.files(under: "files").count == count, "analytics (critical) has not answered: nothing may run")

        // An unknown id and an unexpected consumer are refused with the reason.
        let unknown = try await BuiltBinary.run(["ack", "0123456789abcdef", "--consumer", "analytics", "--config", "archiver.yml"], in: folder.path)
        #expect(unknown.status != 0 && unknown.stderr.contains("no coordination 0123456789abcdef"))
        let stranger = try await BuiltBinary.run(["ack", ids[0], "--consumer", "marketing", "--config", "archiver.yml"], in: folder.path)
        #expect(stranger.status != 0 && stranger.stderr.contains("'analytics', 'billing', 'search'"))

        // analytics acks after a delay (half now, half after search's timeout); search never answers.
        let half = ids.prefix(count / 2).map { #"{"coordination_id":"\#($0)","consumer":"analytics"}"# }.joined(separator: "\n")
        try half.write(toFile: folder("analytics1.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await BuiltBinary.run(["ack", "--file", "analytics1.jsonl", "--config", "archiver.yml"], in: folder.path).status == 0)
        // Until search's 3 s have passed, nothing runs; then the acked half runs and the other half waits for analytics.
        let file = Dictionary(uniqueKeysWithValues: requested.compactMap { event -> (String, String)? in
            let data = event["data"] as? [String: Any] ?? [:]
            guard let id = data["coordination_id"] as? String, let key = ((data["item_key"] as? [String: Any])?["PK"] as? [String: Any])?["S"] as? String
            else { return nil }
            return (id, "f/" + key.dropFirst())
        })
        let waiting = Set(ids.suffix(count - count / 2).compactMap { file[$0] })
        let deadline = Date().addingTimeInterval(60)
        repeat {
            let run = try await BuiltBinary.run(["queue", "run", "--config", "archiver.yml", "--once"], in: folder.path)
            #expect(run.status == 0, "\(run.stderr)")
            let remaining = Set(folder.files(under: "files"))
            #expect(remaining.isSuperset(of: waiting), "a file went before analytics (critical) answered for it")
            if Date().timeIntervalSince(started) < 2.0 { #expect(remaining.count == count, "a file went before search's timeout") }
            if remaining == waiting { break }
            try await Task.sleep(for: .milliseconds(300))
        } while Date() < deadline
        #expect(Set(folder.files(under: "files")) == waiting)
        let rest = ids.suffix(count - count / 2).map { #"{"coordination_id":"\#($0)","consumer":"analytics"}"# }.joined(separator: "\n")
        try rest.write(toFile: folder("analytics2.jsonl"), atomically: true, encoding: .utf8)
        #expect(try await BuiltBinary.run(["ack", "--file", "analytics2.jsonl", "--config", "archiver.yml"], in: folder.path).status == 0)
        #expect(try await BuiltBinary.run(["queue", "run", "--config", "archiver.yml", "--once"], in: folder.path).status == 0)
        #expect(folder.files(under: "files").isEmpty)

        // Every coordination completed once; deletion.completed follows its action's completion, one per coordination.
        let list = try await BuiltBinary.run(["coordination", "list", "--limit", "5000", "--json", "--config", "archiver.yml"], in: folder.path)
        let views = Self.json(list.stdout) as? [[String: Any]] ?? []
        #expect(views.count == count && views.allSatisfy { $0["state"] as? String == "completed" })
        let all = Self.events(folder("state/events.jsonl"))
        let completed = all.filter { $0["type"] as? String == "deletion.completed" }
        #expect(completed.count == count && Set(completed.compactMap { $0["subject"] as? String }) == Set(ids))
        for event in completed.prefix(50) {
            let data = event["data"] as? [String: Any] ?? [:]
            let consumers = (data["consumers"] as? [[String: Any]] ?? []).map { "\($0["name"]!)=\($0["status"]!)" }
            #expect(consumers == ["analytics=completed", "billing=failed", "search=timed-out"])
            #expect((data["actions"] as? [[String: Any]])?.first?["state"] as? String == "completed")
        }
        let stats = try await BuiltBinary.run(["queue", "stats", "--json", "--config", "archiver.yml"], in: folder.path)
        #expect(((Self.json(stats.stdout) as? [String: Any])?["coordinations"] as? [String: Int])?["completed"] == count)
    }
}
