import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// The built `archiver` with a batched archive: chosen by flag, configuration file or environment, refused where
/// another layout is, and read by every command exactly as a per-record archive of the same feed.
@Suite("archiver with a batched archive")
struct BatchedEndToEndTests {
    struct Setup {
        let folder = TemporaryFolder("batched-e2e")
        let counts: SampleFeed.Counts

        init(records: Int = 3000) throws {
            counts = try SampleFeed.write(0..<records, to: folder("feed.jsonl"))
        }

        func run(_ arguments: [String], environment: [String: String] = [:]) throws -> BuiltBinary.Result {
            try BuiltBinary.run(arguments, in: folder.path, environment: environment)
        }

        func ok(_ arguments: [String], environment: [String: String] = [:]) throws -> String {
            let result = try run(arguments, environment: environment)
            #expect(result.status == 0, "\(arguments.prefix(2)): \(result.stderr)")
            return result.stdout
        }

        func tail(_ archive: String, _ extra: [String] = [], environment: [String: String] = [:]) throws -> [String: Any] {
            let out = try ok(["tail", "--source", "jsonl:feed.jsonl", "--archive", archive, "--state", "state-\(archive.split(separator: "/").last!)", "--once", "--json"] + extra,
                             environment: environment)
            return try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any] ?? [:]
        }
    }

    @Test func everyCommandReadsABatchedArchiveAsAPerRecordOneOfTheSameFeed() throws {
        let s = try Setup()
        defer { s.folder.remove() }
        let perRecord = try s.tail("p")
        let batched = try s.tail("b", ["--layout", "batched", "--batch-min-bytes", "16KiB"])
        #expect(batched["archived"] as? Int == s.counts.removes && perRecord["archived"] as? Int == s.counts.removes)
        #expect((batched["batched_objects"] as? Int ?? 0) > 5 && batched["held_open"] as? Int == 0)
        #expect(perRecord["batched_objects"] == nil && perRecord["held_open"] == nil, "a per-record run's summary is as it was")
        #expect(try s.ok(["ls", "--archive", "b"]) == s.ok(["ls", "--archive", "p"]))
        #expect(try s.ok(["ls", "--archive", "b", "--json", "--kind", "ttl", "--date", "2024-01-16"]) == s.ok(["ls", "--archive", "p", "--json", "--kind", "ttl", "--date", "2024-01-16"]))
        let key = try #require(try s.ok(["ls", "--archive", "p"]).split(separator: "\n").dropFirst(333).first?.split(separator: " ").last.map(String.init))
        #expect(try s.ok(["restore", key, "--archive", "b", "--to", "-"]) == s.ok(["restore", key, "--archive", "p", "--to", "-"]))
        let day = { (archive: String) in try s.ok(["restore", "--prefix", "2024/01/16", "--archive", archive, "--to", "-"]).split(separator: "\n").sorted() }
        #expect(try day("b") == day("p") && !(try day("b")).isEmpty)
        _ = try s.ok(["sync", "2024-01", "sync-b", "--archive", "b", "--jsonl", "b.jsonl"])
        _ = try s.ok(["sync", "2024-01", "sync-p", "--archive", "p", "--jsonl", "p.jsonl"])
        #expect(FileManager.default.contents(atPath: s.folder("b.jsonl")) == FileManager.default.contents(atPath: s.folder("p.jsonl")))
        #expect(try s.ok(["ls", "--archive", "sync-b"]) == s.ok(["ls", "--archive", "p"]))
        // An item key instead of a record key: the same hint.
        let entries = try JSONSerialization.jsonObject(with: Data(try s.ok(["ls", "--archive", "b", "--json"]).utf8)) as? [[String: Any]] ?? []
        // The item key written plainly (`/` as it is), as a person would.
        let item = try #require(entries.first { $0["key"] as? String == key }?["item"] as? String).replacingOccurrences(of: "%2F", with: "/")
        let hint = try s.run(["restore", item, "--archive", "b", "--to", "-"])
        #expect(hint.status == 1 && hint.stderr.contains("is an item key") && hint.stderr.contains(key), "\(item): \(hint.stderr)")

        // gunzip reads any object as JSON lines, one per record.
        let object = try #require(s.folder.files(under: "b").first { $0.hasSuffix(".jsonl.gz") })
        let lines = try Shell.check(["sh", "-c", "gunzip -c \(s.folder("b/" + object)) | wc -l"])
        #expect(Int(lines.trimmingCharacters(in: .whitespacesAndNewlines)) == BatchedObjectName(dataKey: object)?.records)
        let plan = try s.ok(["lifecycle", "plan", "--archive", "b", "--now", "2024-06-01"])
        #expect(plan.contains("batched ") && plan.contains("per-record (estimate)"), "\(plan)")
    }

    @Test func theLayoutIsDeclaredOnceAndAnotherIsRefused() throws {
        let s = try Setup(records: 600)
        defer { s.folder.remove() }
        _ = try s.tail("b", ["--layout", "batched"])
        #expect(FileManager.default.fileExists(atPath: s.folder("b/_archiver-layout.json")))
        let again = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "b", "--state", "state-b", "--once", "--json"])
        #expect(again.status == 0, "without --layout a tail takes the archive's: \(again.stderr)")
        let refused = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "b", "--state", "state-x", "--once", "--layout", "per-record"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("is batched") && refused.stderr.contains("--layout batched"), "\(refused.stderr)")

        _ = try s.tail("p")
        #expect(!FileManager.default.fileExists(atPath: s.folder("p/_archiver-layout.json")), "a per-record archive has no manifest, as before")
        let mixed = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "p", "--state", "state-y", "--once", "--layout", "batched"])
        #expect(mixed.status != 0 && mixed.stderr.contains("already holds per-record objects"), "\(mixed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.folder("p/_archiver-layout.json")))

        let bad = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "z", "--layout", "columns"])
        #expect(bad.status != 0 && bad.stderr.contains("per-record or batched"), "\(bad.stderr)")
        let big = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "z", "--layout", "batched", "--batch-max-bytes", "1GiB"])
        #expect(big.status != 0 && big.stderr.contains("32 MiB"), "\(big.stderr)")
    }

    @Test func theLayoutAndLimitsComeFromTheConfigurationFileOrTheEnvironment() throws {
        let s = try Setup(records: 1500)
        defer { s.folder.remove() }
        try Data("layout: batched\nbatching:\n  max-records: 30\n  min-bytes: 4KiB\n  window: 1h\n".utf8).write(to: URL(fileURLWithPath: s.folder("archiver.yml")))
        let check = try s.ok(["config", "check", "archiver.yml"])
        #expect(check.contains("layout: batched") && check.contains("max-records: 30") && check.contains("window: 1h"), "\(check)")
        _ = try s.tail("c", ["--config", "archiver.yml"])
        let objects = s.folder.files(under: "c").compactMap(BatchedObjectName.init(dataKey:))
        #expect(!objects.isEmpty && objects.allSatisfy { $0.records <= 30 } && objects.contains { $0.records == 30 })
        // A flag overrides the file; the environment overrides the file too.
        _ = try s.tail("d", ["--config", "archiver.yml", "--batch-max-records", "12"])
        #expect(s.folder.files(under: "d").compactMap(BatchedObjectName.init(dataKey:)).allSatisfy { $0.records <= 12 })
        _ = try s.tail("e", environment: ["ARCHIVER_LAYOUT": "batched", "ARCHIVER_BATCH_MAX_RECORDS": "7"])
        let e = s.folder.files(under: "e").compactMap(BatchedObjectName.init(dataKey:))
        #expect(!e.isEmpty && e.allSatisfy { $0.records <= 7 })
        try Data("layout: batched\nbatching:\n  max_recrods: 30\n".utf8).write(to: URL(fileURLWithPath: s.folder("typo.yml")))
        let typo = try s.run(["config", "check", "typo.yml"])
        #expect(typo.status != 0 && typo.stderr.contains("max-records"), "\(typo.stderr)")
    }

    @Test func restoringOneKeyFromS3WithTheStateFolderMakesTwoRequestsAndWithoutItListsTheDay() async throws {
        let s = try Setup(records: 3000)
        defer { s.folder.remove() }
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("batched-restore")
        try await s3.createBucket(bucket)
        let archive = "s3://\(bucket)/svc"
        let summary = try s.tail(archive, ["--layout", "batched", "--batch-min-bytes", "16KiB"], environment: server.binaryEnvironment())
        #expect(summary["archived"] as? Int == s.counts.removes)
        let key = try #require(try s.ok(["ls", "--archive", archive], environment: server.binaryEnvironment()).split(separator: "\n").dropFirst(400).first?
            .split(separator: " ").last.map(String.init))

        // With the tail's state folder: its catalogue names the one index that can hold the key.
        let catalogued = try FaultProxy(frontOf: server)
        defer { catalogued.stop() }
        var direct = server.binaryEnvironment()
        direct["AWS_ENDPOINT_URL"] = catalogued.endpoint.absoluteString
        let startedDirect = Date()
        let restoredDirect = try s.ok(["restore", key, "--archive", archive, "--state", "state-svc", "--to", "-"], environment: direct)
        let secondsDirect = Date().timeIntervalSince(startedDirect)
        let directStats = try await catalogued.stats()
        let directRequests = directStats.byRequest.sorted { $0.key < $1.key }
        #expect(directStats.requests == 2, "only the index and the record's range: \(directRequests)")
        #expect(directStats.byRequest.keys.filter { $0.hasSuffix(".index.gz") }.count == 1, "\(directRequests)")
        #expect(directStats.byRequest.keys.filter { $0.hasSuffix(".jsonl.gz") }.count == 1, "\(directRequests)")
        CrashReport.line("restore one key from batched S3 with the state folder", "\(directStats.requests) requests, \(String(format: "%.2f", secondsDirect)) s")

        // Without it (another machine): the manifest, a listing of the day, then the same two reads.
        let proxy = try FaultProxy(frontOf: server)
        defer { proxy.stop() }
        var environment = server.binaryEnvironment()
        environment["AWS_ENDPOINT_URL"] = proxy.endpoint.absoluteString
        let started = Date()
        let restored = try s.ok(["restore", key, "--archive", archive, "--to", "-"], environment: environment)
        #expect(restored == restoredDirect)
        let seconds = Date().timeIntervalSince(started)
        #expect(restored.contains("\"PK\""))
        let stats = try await proxy.stats()
        let requests = stats.byRequest.sorted { $0.key < $1.key }
        let reads = stats.byRequest.filter { $0.key.hasSuffix(".index.gz") || $0.key.hasSuffix(".jsonl.gz") }
        #expect(reads.count == 2 && reads.values.allSatisfy { $0 == 1 }, "one index read and one ranged read: \(requests)")
        #expect(stats.byRequest["GET /\(bucket)"] == 1, "one listing of the day's indexes: \(requests)")
        #expect(stats.byRequest["GET /\(bucket)/svc/\(LayoutManifest.key)"] == 1)
        #expect(stats.requests == 4, "\(requests)")
        CrashReport.line("restore one key from batched S3", "\(stats.requests) requests (\(requests.map { "\($0.key.split(separator: "/").last ?? "")" }.joined(separator: ", "))), \(String(format: "%.2f", seconds)) s")

        // Another machine's state folder gets the catalogue from the archive's indexes: then two requests again.
        let rebuilt = try JSONSerialization.jsonObject(with: Data(s.ok(["catalogue", "rebuild", "--archive", archive, "--state", "state-other", "--json"],
                                                                         environment: server.binaryEnvironment()).utf8)) as? [String: Any]
        #expect((rebuilt?["objects"] as? Int ?? 0) > 1 && rebuilt?["removed"] as? Int == 0, "\(String(describing: rebuilt))")
        let other = try FaultProxy(frontOf: server)
        defer { other.stop() }
        var otherEnvironment = server.binaryEnvironment()
        otherEnvironment["AWS_ENDPOINT_URL"] = other.endpoint.absoluteString
        #expect(try s.ok(["restore", key, "--archive", archive, "--state", "state-other", "--to", "-"], environment: otherEnvironment) == restoredDirect)
        let otherStats = try await other.stats()
        #expect(otherStats.requests == 2, "only the index and the record's range: \(otherStats.byRequest.sorted { $0.key < $1.key })")
        // A per-record archive has nothing to catalogue: a clear refusal.
        _ = try s.tail("p")
        let refused = try s.run(["catalogue", "rebuild", "--archive", "p", "--state", "state-p"])
        #expect(refused.status != 0 && refused.stderr.contains("not batched"), "\(refused.stderr)")
    }
}
