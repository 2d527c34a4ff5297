import ArchiverCore
import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// SIGKILL the tail (which runs the workers and the coordinator) and two scripted consumers at random moments while
/// coordinated deletions arrive: after every kill no file is gone whose coordination was not released with its
/// critical consumer's ack; at the end every coordination completed exactly once, every event is in the JSON-lines
/// file at least once with its deterministic id, and each `deletion.completed` reports every action finished.
extension CrashTests {
    static let coordinationCrashConfiguration = """
        state: state
        archive: archive
        roots:
          files: @FILES@
        rules:
          - name: item-files
            match: {table: items}
            actions:
              - delete-object: {root: files, key: "{OldImage.file.S}"}
            coordinate:
              consumers:
                - {name: analytics, critical: true, timeout: 10m}
                - {name: billing}
                - {name: search, timeout: 2s}
        events:
          source: archiver://crash
        queue:
          batch-size: 25
          max-attempts: 1000
          lease: 1s
          poll: 50ms
          backoff: {base: 10ms, max: 200ms}
        """

    static func coordinationLine(_ i: Int) -> String {
        #"{"eventID":"c\#(i)","eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + i),"Keys":{"PK":{"S":"ITEM#\#(i)"}},"OldImage":{"PK":{"S":"ITEM#\#(i)"},"file":{"S":"items/\#(i).bin"}},"SequenceNumber":"\#(800_000 + i)"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/items/stream/x"}"#
    }

    static func jsonLines(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
            .compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    @Test func killedTailAndConsumersCompleteEveryCoordinationOnceAndNoFileGoesEarly() async throws {
        let folder = TemporaryFolder("crash-coordination")
        defer { folder.remove() }
        let kills = Soak.kills(32)
        let records = max(400, kills * 15)
        try Self.coordinationCrashConfiguration.replacingOccurrences(of: "@FILES@", with: folder("files"))
            .write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: folder("files/items"), withIntermediateDirectories: true)
        for i in 0..<records { try Data("file \(i)".utf8).write(to: URL(fileURLWithPath: folder("files/items/\(i).bin"))) }
        let lines = (0..<records).map { Self.coordinationLine($0) + "\n" }
        _ = FileManager.default.createFile(atPath: folder("feed.jsonl"), contents: nil)
        let writer = try FileHandle(forWritingTo: URL(fileURLWithPath: folder("feed.jsonl")))
        let tail = ["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml"]
        func consumer(_ name: String, status: String, once: Bool = false) -> [String] {
            [PackagePaths.root + "/scripts/test-consumer.py", "--archiver", BuiltBinary.path, "--config", "archiver.yml",
             "--events", "state/events.jsonl", "--consumer", name, "--status", status] + (once ? ["--once"] : [])
        }
        func list() async throws -> [[String: Any]] {
            let out = try await BuiltBinary.run(["coordination", "list", "--limit", "100000", "--json", "--config", "archiver.yml"], in: folder.path)
            return (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8))) as? [[String: Any]] ?? []
        }
        func line(of coordination: [String: Any]) -> Int? {
            (coordination["archive_key"] as? String).flatMap { ArchiveKey(path: $0) }.flatMap { Int($0.sequence) }.map { $0 - 800_000 }
        }
        var generator = SystemRandomNumberGenerator()
        var written = 0
        var goneChecks = 0
        for kill in 0..<kills {
            let running = try BuiltBinary.start(tail, in: folder.path)
            let analytics = try ScriptProcess(consumer("analytics", status: "completed"), in: folder.path)
            let billing = try ScriptProcess(consumer("billing", status: "failed"), in: folder.path)
            let end = min(records, written + max(1, (records - written) / max(1, kills - kill)))
            writer.write(Data(lines[written..<end].joined().utf8))
            written = end
            try await Task.sleep(for: .milliseconds(Int.random(in: 30...900, using: &generator)))
            for script in [analytics, billing].shuffled() { script.kill() }
            running.signal(SIGKILL)
            let result = await running.finish()
            #expect(!result.crashed, "crashed before it was killed: \(result.stderr)")

            // No file went before its coordination was released with analytics' (critical) ack.
            let coordinations = try await list()
            let released = Set(coordinations.filter { coordination in
                let analytics = (coordination["consumers"] as? [[String: Any]])?.first { $0["name"] as? String == "analytics" }
                return ["released", "timed-out", "completed"].contains(coordination["state"] as? String ?? "") && analytics?["status"] as? String == "completed"
            }.compactMap(line(of:)))
            for i in 0..<records where !FileManager.default.fileExists(atPath: folder("files/items/\(i).bin")) {
                goneChecks += 1
                #expect(released.contains(i), "after kill \(kill), line \(i)'s file is gone before its coordination was released")
            }
        }
        try writer.close()

        // Finish: the tail to the end, the consumers to the end of the events, the queue and coordinator until done.
        #expect(try await BuiltBinary.run(tail + ["--once", "--no-queue"], in: folder.path).status == 0)
        var coordinations: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(120)
        repeat {
            _ = try await BuiltBinary.run(["coordination", "run", "--once", "--config", "archiver.yml"], in: folder.path)
            for (name, status) in [("analytics", "completed"), ("billing", "failed")] {
                let script = try ScriptProcess(consumer(name, status: status, once: true), in: folder.path)
                script.wait()
            }
            _ = try await BuiltBinary.run(["queue", "run", "--once", "--config", "archiver.yml"], in: folder.path)
            coordinations = try await list()
            if coordinations.count == records, coordinations.allSatisfy({ $0["state"] as? String == "completed" }) { break }
            try await Task.sleep(for: .milliseconds(500))
        } while Date() < deadline
        _ = try await BuiltBinary.run(["coordination", "run", "--once", "--config", "archiver.yml"], in: folder.path)

        #expect(coordinations.count == records && coordinations.allSatisfy { $0["state"] as? String == "completed" })
        #expect(folder.files(under: "files").isEmpty, "every file went once its coordination was released")
        let events = Self.jsonLines(folder("state/events.jsonl"))
        let ids = coordinations.compactMap { $0["id"] as? String }
        for (type, name) in [("deletion.requested", "requested"), ("deletion.completed", "completed")] {
            let delivered = events.filter { $0["type"] as? String == type }
            // At least once, with the same id: each coordination's event has exactly one id, the deterministic one.
            #expect(Set(delivered.compactMap { $0["id"] as? String }) == Set(ids.map { CloudEvent.id(subject: $0, type: type) }), "\(name) events")
        }
        var firstRequested: [String: Int] = [:]
        for (position, event) in events.enumerated() {
            let subject = event["subject"] as? String ?? ""
            if event["type"] as? String == "deletion.requested", firstRequested[subject] == nil { firstRequested[subject] = position }
            if event["type"] as? String == "deletion.completed" {
                #expect(firstRequested[subject].map { $0 < position } == true, "deletion.completed before deletion.requested")
                let actions = (event["data"] as? [String: Any])?["actions"] as? [[String: Any]] ?? []
                #expect(!actions.isEmpty && actions.allSatisfy { $0["state"] as? String == "completed" }, "deletion.completed before its last action finished")
            }
        }
        #expect(goneChecks > 0, "the kills never found a deleted file")
        CrashReport.line("tail and consumers with coordinated deletions", "\(kills) kills, \(records) lines, \(goneChecks) deleted-file checks against their coordination")
    }
}

/// A helper script run with python3, killed with SIGKILL or waited for.
final class ScriptProcess: @unchecked Sendable {
    let process = Process()

    init(_ arguments: [String], in directory: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        ChildProcess.killWhenOrphaned(process.processIdentifier)
    }

    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func wait() { process.waitUntilExit() }
}
