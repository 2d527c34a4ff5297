import ArchiverCore
import Foundation
import Testing
import TestSupport

/// `archiver serve` checked by outside peers: schemathesis against its OpenAPI document, and a real browser (headless
/// Chromium driven by selenium) on its page.
@Suite(.serialized) struct ServePeerTests {
    @Test("schemathesis: every operation of the OpenAPI document, bounded; no 5xx, every response matches its schema")
    func schemathesis() async throws {
        let world = try ServeWorld(queue: true)
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }
        #expect(try await server.wait { try await server.request("/api/v1/queue/stats").json["total"] as? Int ?? 0 > 0 })
        // 200 examples per operation is the full run (ARCHIVER_SCHEMATHESIS_EXAMPLES=200); CI runs fewer.
        let examples = ProcessInfo.processInfo.environment["ARCHIVER_SCHEMATHESIS_EXAMPLES"] ?? "60"
        let (status, output) = try Self.run([
            "schemathesis", "run", server.base + "/api/v1/openapi.json",
            "--header", "Authorization: Bearer \(ServeProcess.token)",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--max-examples", examples, "--seed", "7", "--generation-database", "none", "--no-color", "--request-timeout", "30",
        ], in: world.folder.path)
        #expect(status == 0, "\(output.suffix(6000))")
        #expect(output.contains("34 selected / 34 total"), "\(output.suffix(3000))")
        // The server is whole after it: still ready, its state database intact.
        #expect(try await server.request("/readyz", token: nil).status == 200)
    }

    @Test("the page in headless Chromium: sign in, see the overview, see a <script> dead letter as text, retry a dead letter and see it archived, drop a queue entry, see a coordination's awaited consumer and an erasure job, search an item and restore it")
    func browser() async throws {
        let world = try ServeWorld(queue: true)
        defer { world.folder.remove() }
        // A deletion the archive store refused earlier (as a tail writes it after the store's refusals): its entry holds
        // the whole record, so a retry archives it.
        let record = #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1706745600,"Keys":{"PK":{"S":"RETRIED#1"}},"OldImage":{"PK":{"S":"RETRIED#1"},"note":{"S":"refused once"}},"SequenceNumber":"9001"}}"#
        let refused = DeadLetter(source: "jsonl:" + world.folder("feed.jsonl"), partition: "", position: "line 9001 (byte 0)",
                                 reason: "the archive store refused the object: SlowDown", code: "write-failed", raw: Array(record.utf8), at: Date())
        try await DeadLetterFolder(stateFolder: world.folder("state")).write([refused])
        let server = try await world.serve()
        let entries = try await server.request("/api/v1/dead-letters").json["entries"] as? [[String: Any]] ?? []
        let hostile = try #require(entries.first { ($0["position"] as? String)?.hasPrefix("line 394 ") == true }?["id"] as? String)
        #expect(try await server.wait { try await server.request("/api/v1/queue/stats").json["total"] as? Int ?? 0 > 0 })
        // A parked entry (its item key would leave the root): entries held by their coordination are not dropped.
        #expect(try await server.wait { (try await server.request("/api/v1/queue/entries?state=parked&limit=1").json["entries"] as? [Any])?.isEmpty == false })
        let queued = try await server.request("/api/v1/queue/entries?state=parked&limit=1").json["entries"] as? [[String: Any]] ?? []
        let dropped = try #require(queued.first?["id"] as? String)
        // A coordination waits for analytics; an erasure is queued for later (the page shows both).
        #expect(try await server.wait { (try await server.request("/api/v1/coordinations?state=waiting").json["coordinations"] as? [Any])?.isEmpty == false })
        let erasure = try await server.request("/api/v1/erasures", method: "POST", json: #"{"subject": "u#1", "after": "30d"}"#)
        let job = try #require(erasure.json["job"] as? String, "\(erasure.text)")
        try Data((ServeProcess.token + "\n").utf8).write(to: URL(fileURLWithPath: world.folder("token")))
        // ARCHIVER_SCREENSHOT=docs/serve-overview.png refreshes the README's picture.
        let screenshot = ProcessInfo.processInfo.environment["ARCHIVER_SCREENSHOT"].map { PackagePaths.root + "/" + $0 } ?? world.folder("overview.png")
        let user = world.deletedUsers[1]
        let (status, output) = try Self.run([
            "python3", PackagePaths.root + "/scripts/serve-browser-check.py", "--url", server.base, "--token-file", world.folder("token"),
            "--hostile", hostile, "--retry", refused.id, "--queue-drop", dropped, "--erasure", job, "--item", "\(user)", "--target", "users", "--screenshot", screenshot,
        ], in: world.folder.path)
        #expect(status == 0, "\(output.suffix(4000))")
        #expect(output.contains(#""passed": ["sign-in", "hostile", "retry", "queue-drop", "coordinations", "erasures", "restore"]"#), "\(output.suffix(2000))")
        // What the browser did is real: the retried record is in the archive, the restored row in the table.
        let found = try await server.request("/api/v1/records?item=RETRIED%231").json["records"] as? [Any]
        #expect(found?.count == 1)
        #expect(try ServeWorld.sqlite(world.folder("app.sqlite"), "SELECT count(*) FROM users WHERE id = \(user)").trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        #expect(try await server.request("/api/v1/queue/entries/\(dropped)").status == 404)
        #expect(FileManager.default.fileExists(atPath: screenshot))
        let result = await server.stop()
        #expect(result.status == 0)
    }

    /// Runs a command; its status and its output (standard output and error together).
    static func run(_ arguments: [String], in directory: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let output = directory + "/peer-output.txt"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }
}
