import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Webhook delivery through the built binary, through `scripts/fault-proxy.py` (5xx, resets, stalls), to a Python
/// consumer that checks every signature with the Standard Webhooks reference library (`standardwebhooks`): every
/// event arrives at least once with its id, signed with a key the consumer knows (archiver signs with two while a
/// secret rotates); a 410 disables its endpoint and a 400 parks the event, without holding back the other targets.
@Suite("Webhook delivery end to end")
struct WebhookDeliveryTests {
    /// A started helper script that prints its port first.
    final class Helper: @unchecked Sendable {
        let process = Process()
        let port: Int
        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3"] + arguments
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            ChildProcess.killWhenOrphaned(process.processIdentifier)
            port = Int(try ChildProcess.firstLine(of: out)) ?? 0
        }
        func stop() { kill(process.processIdentifier, SIGKILL) }
    }

    static func lines(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    @Test func signedDeliveriesThroughFaultsArriveAtLeastOnceAndVerify() async throws {
        let folder = TemporaryFolder("webhook-e2e")
        defer { folder.remove() }
        let newSecret = "whsec_" + Data((0..<32).map { UInt8($0 * 7 % 251) }).base64EncodedString()
        let oldSecret = "whsec_" + Data((0..<24).map { UInt8($0 * 13 % 251) }).base64EncodedString()
        try newSecret.write(toFile: folder("new.secret"), atomically: true, encoding: .utf8)
        try oldSecret.write(toFile: folder("old.secret"), atomically: true, encoding: .utf8)
        // The consumer still knows the old secret only: the rotation's second signature is what it verifies.
        let consumer = try Helper([PackagePaths.root + "/scripts/webhook-consumer.py", "--secret", oldSecret, "--out", folder("received.jsonl"), "--fail-first", "3"])
        defer { consumer.stop() }
        let proxy = try Helper([
            PackagePaths.root + "/scripts/fault-proxy.py", "--upstream", "http://127.0.0.1:\(consumer.port)",
            "--faults", "500=0.1,503=0.1,reset=0.05,reset-after=0.1,stall=0.02", "--stall-seconds", "1", "--seed", "7",
        ])
        defer { proxy.stop() }

        let count = 60
        var lines: [String] = []
        try FileManager.default.createDirectory(atPath: folder("files"), withIntermediateDirectories: true)
        for n in 0..<count {
            lines.append(#"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"F\#(n)"}},"OldImage":{"path":{"S":"f/\#(n)"}},"SequenceNumber":"\#(10_000 + n)"},"eventSourceARN":"arn:aws:dynamodb:r:1:table/files/stream/x"}"#)
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
            queue: {poll: 100ms}
            events:
              source: archiver://files
              retry: {base: 50ms, max: 200ms}
              batch-size: 25
              targets:
                - jsonl: state/events.jsonl
                - webhook: {url: "http://127.0.0.1:\(proxy.port)/hook", secret-files: [new.secret, old.secret], timeout: 2s}
                - webhook: {url: "http://127.0.0.1:\(consumer.port)/gone", secret-file: old.secret}
                - webhook: {url: "http://127.0.0.1:\(consumer.port)/bad", secret-file: old.secret}
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once", "--no-queue"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")

        // One coordinator process delivers, retrying after its backoff, until every event arrived verified.
        let coordinator = try BuiltBinary.start(["coordination", "run", "--config", "archiver.yml"], in: folder.path)
        let deadline = Date().addingTimeInterval(240)
        var verified: Set<String> = []
        repeat {
            try await Task.sleep(for: .milliseconds(200))
            let received = Self.lines(folder("received.jsonl")).filter { $0["path"] as? String == "/hook" }
            verified = Set(received.filter { $0["status"] as? Int == 204 }.compactMap { $0["id"] as? String })
            let expected = Set(Self.lines(folder("state/events.jsonl")).compactMap { $0["id"] as? String })
            if expected.count == count, verified == expected { break }
        } while Date() < deadline && coordinator.process.isRunning
        coordinator.signal(SIGTERM)
        let stopped = await coordinator.finish()
        #expect(stopped.status == 0, "\(stopped.stderr.suffix(1000))")
        let events = Self.lines(folder("state/events.jsonl"))
        #expect(events.count == count, "the JSON-lines target got every event once")
        #expect(verified == Set(events.compactMap { $0["id"] as? String }), "every event arrived, verified, with its id: \(verified.count) of \(events.count)")
        let received = Self.lines(folder("received.jsonl"))
        #expect(received.allSatisfy { $0["verified"] as? Bool == true }, "every signature verifies: \(received.filter { $0["verified"] as? Bool != true }.prefix(3))")
        #expect(received.filter { $0["path"] as? String == "/hook" }.allSatisfy { $0["webhook_id"] as? String == $0["id"] as? String })
        // In order: the first delivery of each event came after the first delivery of the one before it.
        let firstSeen = received.filter { $0["path"] as? String == "/hook" }.compactMap { $0["id"] as? String }
        var order: [String] = []
        for id in firstSeen where !order.contains(id) { order.append(id) }
        #expect(order == events.compactMap { $0["id"] as? String })
        #expect(received.filter { $0["path"] as? String == "/hook" && $0["status"] as? Int == 503 }.count == 3, "the consumer's 503s were retried")
        // /gone got one request, then was disabled; /bad parked each event it refused and went on.
        #expect(received.filter { $0["path"] as? String == "/gone" }.count == 1)
        #expect(received.filter { $0["path"] as? String == "/bad" }.count == count)
    }
}
