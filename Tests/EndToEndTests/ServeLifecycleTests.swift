import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// How `archiver serve` starts and stops, and what its metrics say, through the built binary.
@Suite(.serialized) struct ServeLifecycleTests {
    @Test("a non-loopback address without a token is refused at start, saying what to do; a short token is refused too")
    func nonLoopbackNeedsAToken() throws {
        let folder = TemporaryFolder("serve-refuse")
        defer { folder.remove() }
        try Data().write(to: URL(fileURLWithPath: folder("feed.jsonl")))
        var environment = ProcessInfo.processInfo.environment
        environment["ARCHIVER_SERVE_TOKEN"] = nil
        let arguments = ["serve", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--listen", "0.0.0.0:0"]
        let refused = try BuiltBinary.run(arguments, in: folder.path, environment: ["ARCHIVER_SERVE_TOKEN": ""])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("0.0.0.0:0") && refused.stderr.contains("--token-file"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder("state/serve-token")))
        let short = try BuiltBinary.run(arguments, in: folder.path, environment: ["ARCHIVER_SERVE_TOKEN": "abc"])
        #expect(short.status == 1)
        #expect(short.stderr.contains("at least 16"), "\(short.stderr)")
        #expect(!short.stderr.contains("abc\n") && !short.stderr.contains("'abc'"))
    }

    @Test("an address already in use stops it at start with exit 1, naming the address; the tails stop with it")
    func addressInUse() throws {
        let folder = TemporaryFolder("serve-in-use")
        defer { folder.remove() }
        try FileManager.default.copyItem(atPath: PackagePaths.fixture("feed.jsonl"), toPath: folder("feed.jsonl"))
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
        _ = listen(listener, 1)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        let port = Int(UInt16(bigEndian: address.sin_port))
        let result = try BuiltBinary.run(
            ["serve", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--listen", "127.0.0.1:\(port)"],
            in: folder.path, environment: ["ARCHIVER_SERVE_TOKEN": ServeProcess.token])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(port)") && result.stderr.contains("--listen"), "\(result.stderr)")
    }

    @Test("tail --metrics-listen: the metrics, read by prometheus_client's parser, count what the tail's summary says")
    func metricsMatchTheTailSummary() async throws {
        let folder = TemporaryFolder("serve-metrics")
        defer { folder.remove() }
        try FileManager.default.copyItem(atPath: PackagePaths.fixture("feed.jsonl"), toPath: folder("feed.jsonl"))
        let tail = try BuiltBinary.start(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--json", "--metrics-listen", "127.0.0.1:0"],
            in: folder.path)
        ChildProcess.killWhenOrphaned(tail.pid)
        var url: String?
        let deadline = Date().addingTimeInterval(60)
        while url == nil, Date() < deadline, tail.process.isRunning {
            if let range = tail.standardErrorSoFar.range(of: "serving metrics on ") {
                let rest = tail.standardErrorSoFar[range.upperBound...]
                if rest.contains("\n") { url = String(rest.prefix { $0 != "\n" }) }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let metrics = try #require(url, "\(tail.standardErrorSoFar)")
        // Wait until the whole fixture is read (393 lines), then read the metrics with the Python parser.
        var parsed: [String: Any] = [:]
        var read = 0.0
        while Date() < deadline {
            parsed = try Self.parse(metrics)
            read = Self.sum(parsed, "archiver_records_read_total")
            if read == 393 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        tail.signal(SIGTERM)
        let result = await tail.finish()
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(read == Double(summary["read"] as? Int ?? -1))
        #expect(Self.sum(parsed, "archiver_records_archived_total", ["kind": "manual"]) == Double(summary["archived_manual"] as? Int ?? -1))
        #expect(Self.sum(parsed, "archiver_records_archived_total", ["kind": "ttl"]) == Double(summary["archived_ttl"] as? Int ?? -1))
        #expect(Self.sum(parsed, "archiver_records_passed_over_total") == Double(summary["passed_over"] as? Int ?? -1))
        #expect(Self.sum(parsed, "archiver_records_dead_lettered_total") == Double(summary["dead_lettered"] as? Int ?? -1))
        #expect(Self.sum(parsed, "archiver_archive_writes_total") == Double(summary["archived"] as? Int ?? -1))
        #expect(Self.sum(parsed, "archiver_archive_written_bytes_total") == Double(summary["archived_bytes"] as? Int ?? -1))
        #expect(Self.sum(parsed, "archiver_record_bytes_read_total") == Double(summary["bytes"] as? Int ?? -1))
        // The fixture's counts, by event and code (fixtures/README.md).
        #expect(Self.sum(parsed, "archiver_records_passed_over_total", ["event": "INSERT"]) == 157)
        #expect(Self.sum(parsed, "archiver_records_passed_over_total", ["event": "MODIFY"]) == 85)
        #expect(Self.sum(parsed, "archiver_records_dead_lettered_total", ["code": "no-old-image"]) == 1)
        // Types and units as Prometheus names them.
        let families = parsed["families"] as? [String: String] ?? [:]
        #expect(families["archiver_records_read"] == "counter")
        #expect(families["archiver_batch_commit_duration_seconds"] == "histogram")
        #expect(families["archiver_source_backlog_bytes"] == "gauge")
        #expect(families["archiver_checkpoint_age_seconds"] == "gauge")
        #expect(Self.sum(parsed, "archiver_source_backlog_bytes") == 0)
    }

    @Test("SIGTERM while a tail archives at full speed and requests write to the state: exit 0 within the grace period, checkpoints saved, no reply cut short, nothing half-written")
    func stopUnderLoad() async throws {
        let folder = TemporaryFolder("serve-sigterm")
        defer { folder.remove() }
        let records = Int(ProcessInfo.processInfo.environment["ARCHIVER_SERVE_STOP_RECORDS"] ?? "") ?? 150000
        let generate = try await BuiltBinary.run(["generate", "--records", "\(records)", "--seed", "5", "--summary", "expected.json"], in: folder.path)
        try Data(generate.stdoutBytes).write(to: URL(fileURLWithPath: folder("feed.jsonl")))
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder("expected.json")))) as! [String: Any]
        let server = try await ServeProcess(["--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state"], in: folder.path)
        _ = try await server.wait { ((try await server.source("jsonl:feed.jsonl"))?["totals"] as? [String: Any])?["read"] as? Int ?? 0 > 0 }

        // Clients that read and write the state until the server goes away.
        let replies = ReplyLog()
        let clients = (0..<4).map { index in
            Task {
                while !Task.isCancelled {
                    do {
                        let reply = index % 2 == 0
                            ? try await server.request("/api/v1/stats")
                            : try await server.request("/api/v1/dead-letters/retry", method: "POST", json: "{}")
                        replies.add(reply)
                    } catch {
                        replies.refused()
                        if replies.refusals > 40 { return }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
            }
        }
        // Stop as soon as the clients are being answered: on a fast machine the whole feed is read in well under a second.
        let answered = Date().addingTimeInterval(10)
        while replies.count < 8, Date() < answered { try await Task.sleep(for: .milliseconds(10)) }
        let stopped = Date()
        server.running.signal(SIGTERM)
        let result = await server.running.finish()
        let took = Date().timeIntervalSince(stopped)
        clients.forEach { $0.cancel() }
        for client in clients { _ = await client.value }
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(took < 30, "took \(took) s")
        // Every reply that came was whole: a status the API documents and a body that is complete JSON.
        #expect(replies.count > 0)
        #expect(replies.bad.isEmpty, "\(replies.bad.prefix(3))")
        // Nothing half-written in the state folder, and the checkpoint database is whole.
        #expect(!FileManager.default.fileExists(atPath: folder("state/dead-letters/.tmp")))
        #expect(try ServeWorld.sqlite(folder("state/archiver.sqlite"), "PRAGMA integrity_check").trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
        // The checkpoint was saved: a tail resumes after it, and together they read every record once.
        let read = Int(result.stdout.split(separator: "\n").first { $0.hasPrefix("jsonl:feed.jsonl: read ") }?
            .split(separator: " ")[2].trimmingCharacters(in: .punctuationCharacters) ?? "") ?? -1
        print("serve stop under load: read \(read) of \(records) before the stop, \(replies.count) replies, stopped in \(String(format: "%.2f", took)) s")
        #expect(read > 0 && read < records, "read \(read) of \(records) before the stop; make the feed longer (ARCHIVER_SERVE_STOP_RECORDS)")
        let rest = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path)
        let summary = try JSONSerialization.jsonObject(with: Data(rest.stdout.utf8)) as? [String: Any] ?? [:]
        #expect((summary["read"] as? Int ?? 0) + read == records)
        let listed = try await BuiltBinary.run(["ls", "--archive", "archive", "--json"], in: folder.path)
        let objects = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any])?.count ?? -1
        #expect(objects == expected["archived"] as? Int)
    }

    /// `scripts/metrics-json.py <url>`: the metrics as prometheus_client's parser reads them.
    static func parse(_ url: String) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", PackagePaths.root + "/scripts/metrics-json.py", url]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.readToEnd()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ServeProcess.ServeFailed(message: "the metrics did not parse") }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    /// The sum of the samples named `name` whose labels include `labels`.
    static func sum(_ parsed: [String: Any], _ name: String, _ labels: [String: String] = [:]) -> Double {
        let samples = parsed["samples"] as? [[String: Any]] ?? []
        return samples.filter { sample in
            guard sample["name"] as? String == name else { return false }
            let have = sample["labels"] as? [String: String] ?? [:]
            return labels.allSatisfy { have[$0.key] == $0.value }
        }.reduce(0) { $0 + ((($1["value"] as? NSNumber)?.doubleValue) ?? 0) }
    }
}

/// What the clients of `stopUnderLoad` got.
private final class ReplyLog: @unchecked Sendable {
    private let lock = NSLock()
    private var replies = 0
    private var refusedCount = 0
    private var problems: [String] = []

    func add(_ reply: ServeProcess.Reply) {
        let whole = (try? JSONSerialization.jsonObject(with: reply.body)) != nil
        lock.withLock {
            replies += 1
            if ![200, 503].contains(reply.status) || !whole { problems.append("\(reply.status): \(reply.text.prefix(200))") }
        }
    }

    func refused() { lock.withLock { refusedCount += 1 } }
    var refusals: Int { lock.withLock { refusedCount } }
    var count: Int { lock.withLock { replies } }
    var bad: [String] { lock.withLock { problems } }
}
