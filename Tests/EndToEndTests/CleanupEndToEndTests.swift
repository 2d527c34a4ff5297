import AWSClients
import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// `archiver cleanup` as a user runs it: an S3 root with DynamoDB owners on moto, a folder with SQLite owners,
/// lookups that fail, dry runs compared with the listing, and the metrics file read by Prometheus's own parser.
@Suite("archiver cleanup, end to end")
struct CleanupEndToEndTests {
    /// A bucket of uploads and a DynamoDB table of upload sessions on moto.
    struct Uploads {
        let folder = TemporaryFolder("e2e-cleanup")
        let server: MotoServer
        let s3: S3Client
        let dynamo: DynamoDBClient
        let bucket: String
        let table: String
        let environment: [String: String]
        /// The upload ids: without parts, with two parts.
        var empty = "", partial = ""

        init() async throws {
            server = try await MotoServer.shared()
            s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
            dynamo = DynamoDBClient(settings: server.settings())
            bucket = MotoServer.uniqueName("e2e-uploads")
            table = MotoServer.uniqueName("UploadSessions")
            var environment = server.awsEnvironment()
            environment["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
            environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
            self.environment = environment
            try await s3.createBucket(bucket)
            try await dynamo.createTable(
                table, keySchema: [DynamoDBKeyElement(attributeName: "uploadSessionId", keyType: "HASH")],
                attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "uploadSessionId", attributeType: "S")])
            try await dynamo.putItem(table: table, itemJSON: Array(#"{"uploadSessionId":{"S":"s-owned"},"status":{"S":"uploaded"}}"#.utf8))
            for (key, size) in [
                ("uploads/2024-01-01/s-owned.mp4", 400), ("uploads/2024-01-01/s-gone.mp4", 300), ("uploads/2024-01-01/s-gone.jpg", 200),
                ("uploads/readme.txt", 10), ("other/2024-01-01/s-gone.mp4", 5),
            ] {
                try await s3.putObject(bucket: bucket, key: key, body: Array(repeating: 1, count: size))
            }
            empty = try await s3.createMultipartUpload(bucket: bucket, key: "uploads/2024-01-02/u-empty.mp4")
            partial = try await s3.createMultipartUpload(bucket: bucket, key: "uploads/2024-01-02/u-partial.mp4")
            for part in 1...2 {
                _ = try await s3.uploadPart(bucket: bucket, key: "uploads/2024-01-02/u-partial.mp4", uploadID: partial, partNumber: part, body: Array(repeating: 2, count: 1000))
            }
        }

        func run(_ arguments: [String], environment: [String: String]? = nil) throws -> BuiltBinary.Result {
            try BuiltBinary.run(["cleanup"] + arguments, in: folder.path, environment: environment ?? self.environment)
        }

        /// Every key of the bucket and every upload in progress.
        func listing() async throws -> [String] {
            var entries: [String] = []
            for try await object in s3.listAllObjects(bucket: bucket) { entries.append("object \(object.key) \(object.size)") }
            for upload in try await s3.listMultipartUploads(bucket: bucket) { entries.append("upload \(upload.key) \(upload.uploadID)") }
            return entries.sorted()
        }

        var root: String { "s3://\(bucket)/uploads/" }
        var orphanFlags: [String] { ["--key-pattern", "*/{sessionId}.*", "--owner", "dynamodb:\(table)"] }
    }

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// The samples of a metrics file as prometheus_client's parser reads them: name → (value, family type).
    static func parseMetrics(_ path: String) throws -> [String: (value: Double, type: String)] {
        let script = """
            import sys, json
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                for sample in family.samples:
                    out[sample.name] = [sample.value, family.type]
            print(json.dumps(out))
            """
        let result = try AWSPeer.python(script, arguments: [path], environment: ProcessInfo.processInfo.environment)
        try #require(result.status == 0, "prometheus_client could not parse \(path) (scripts/test installs prometheus-client): \(result.stderr)")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout)) as? [String: [Any]])
        return parsed.compactMapValues { pair in
            guard let value = (pair[0] as? NSNumber)?.doubleValue, let type = pair[1] as? String else { return nil }
            return (value, type)
        }
    }

    static let countNames = [
        "items_checked", "objects_examined", "objects_deleted", "bytes_freed", "objects_owned", "objects_too_recent", "objects_unmatched",
        "objects_kept_on_lookup_error", "multipart_uploads_aborted", "uploads_kept_for_review", "uploads_too_recent", "temporary_files_removed",
        "dead_letters_removed", "queue_entries_removed", "errors",
    ]

    @Test func anS3RootWithDynamoDBOwnersDryRunThenRealRunWithMetrics() async throws {
        let u = try await Uploads()
        defer { u.folder.remove() }
        let before = try await u.listing()

        // A dry run prints every action and changes nothing.
        let dry = try u.run([u.root] + u.orphanFlags + ["--orphans-older-than", "0s", "--dry-run", "--metrics-file", "m.prom"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try await u.listing() == before, "a dry run changed the bucket")
        #expect(!FileManager.default.fileExists(atPath: u.folder("m.prom")), "a dry run wrote the metrics file")
        #expect(dry.stderr.contains("a dry run leaves the metrics file"))
        let lines = dry.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("would delete  \(u.root)2024-01-01/s-gone.mp4  (300 B") && $0.contains("no sessionId 's-gone' in dynamodb:\(u.table)") }, "\(dry.stdout)")
        #expect(lines.contains { $0.hasPrefix("would delete  \(u.root)2024-01-01/s-gone.jpg") })
        #expect(lines.contains { $0.hasPrefix("would abort upload  \(u.root)2024-01-02/u-empty.mp4  (upload \(u.empty)") && $0.contains("no parts") })
        #expect(lines.contains { $0.hasPrefix("keep for review  \(u.root)2024-01-02/u-partial.mp4") && $0.contains("holds 2 parts") })
        #expect(!dry.stdout.contains("s-owned.mp4") && !dry.stdout.contains("readme") && !dry.stdout.contains("other/"), "\(dry.stdout)")
        #expect(dry.stdout.contains("objects would be deleted  2"))

        // moto stamps uploads in 2010: seen with a threshold longer than that, they are too recent to touch.
        let young = try u.run([u.root, "--uploads-older-than", "36500d", "--dry-run", "--json"])
        #expect(young.status == 0, "\(young.stderr)")
        let youngSummary = try Self.json(young.stdout)
        #expect(youngSummary["uploads_too_recent"] as? Int == 2 && youngSummary["multipart_uploads_aborted"] as? Int == 0)

        // The real run does what the dry run said.
        let real = try u.run([u.root] + u.orphanFlags + ["--orphans-older-than", "0s", "--json", "--metrics-file", "m.prom"])
        #expect(real.status == 0, "\(real.stderr)")
        let summary = try Self.json(real.stdout)
        #expect(summary["dry_run"] as? Bool == false)
        #expect(summary["items_checked"] as? Int == 2, "s-owned and s-gone, each looked up once")
        #expect(summary["objects_deleted"] as? Int == 2 && summary["objects_owned"] as? Int == 1 && summary["objects_unmatched"] as? Int == 1)
        #expect(summary["multipart_uploads_aborted"] as? Int == 1 && summary["uploads_kept_for_review"] as? Int == 1)
        #expect(summary["bytes_freed"] as? Int == 500 && summary["errors"] as? Int == 0)
        #expect(summary["actions"] == nil, "a real run's JSON has no action list")
        #expect(try await u.listing() == [
            "object other/2024-01-01/s-gone.mp4 5", "object uploads/2024-01-01/s-owned.mp4 400", "object uploads/readme.txt 10",
            "upload uploads/2024-01-02/u-partial.mp4 \(u.partial)",
        ])

        // The metrics file, read by Prometheus's parser, holds the counts of the JSON summary.
        let metrics = try Self.parseMetrics(u.folder("m.prom"))
        for name in Self.countNames {
            let sample = metrics["archiver_cleanup_\(name)_total"]
            #expect(sample?.type == "counter", "\(name): \(String(describing: sample))")
            #expect(sample?.value == (summary[name] as? NSNumber)?.doubleValue, "\(name): file \(String(describing: sample)), summary \(String(describing: summary[name]))")
        }
        #expect(metrics["archiver_cleanup_runs_total"]?.value == 1)
        #expect(metrics["archiver_cleanup_duration_seconds"]?.type == "gauge")
        #expect(metrics["archiver_cleanup_duration_seconds"]?.value == (summary["duration_seconds"] as? NSNumber)?.doubleValue)
        let ended = try #require(metrics["archiver_cleanup_last_run_timestamp_seconds"]?.value)
        #expect(abs(ended - Date().timeIntervalSince1970) < 120)
        #expect(u.folder.files().filter { $0.hasPrefix("m.prom") } == ["m.prom"], "a temporary metrics file was left")

        // A second run with --abort-partial: the counters add up, the gauges describe the last run.
        let second = try u.run([u.root, "--abort-partial", "--json", "--metrics-file", "m.prom"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try Self.json(second.stdout)["multipart_uploads_aborted"] as? Int == 1)
        let after = try Self.parseMetrics(u.folder("m.prom"))
        #expect(after["archiver_cleanup_runs_total"]?.value == 2)
        #expect(after["archiver_cleanup_multipart_uploads_aborted_total"]?.value == 2)
        #expect(after["archiver_cleanup_objects_deleted_total"]?.value == 2)
        #expect(after["archiver_cleanup_bytes_freed_total"]?.value == 2500)
        #expect(try await u.listing().allSatisfy { $0.hasPrefix("object") })
    }

    /// Never delete on doubt: a missing owner table, or an owner table that keeps failing, keeps every object.
    @Test func lookupsThatFailKeepEveryObjectAndExitOne() async throws {
        let u = try await Uploads()
        defer { u.folder.remove() }
        let before = try await u.listing()
        let missing = try u.run([u.root, "--key-pattern", "*/{sessionId}.*", "--owner", "dynamodb:\(u.table)-gone", "--orphans-older-than", "0s", "--no-uploads", "--json"])
        #expect(missing.status == 1, "\(missing.stderr)")
        let summary = try Self.json(missing.stdout)
        #expect(summary["objects_deleted"] as? Int == 0 && summary["objects_kept_on_lookup_error"] as? Int == 3 && summary["errors"] as? Int == 3)
        let problems = try #require(summary["problems"] as? [[String: Any]])
        #expect((problems.first?["error"] as? String)?.contains("there is no DynamoDB table \(u.table)-gone") == true, "\(problems)")
        #expect(try await u.listing() == before)

        // Every DynamoDB request through the fault proxy fails; S3 is reached directly.
        let proxy = try FaultProxy(frontOf: u.server, faults: ["500": 1.0])
        defer { proxy.stop() }
        var environment = u.environment
        environment["AWS_ENDPOINT_URL_DYNAMODB"] = proxy.endpoint.absoluteString
        let failing = try u.run([u.root] + u.orphanFlags + ["--orphans-older-than", "0s", "--no-uploads"], environment: environment)
        #expect(failing.status == 1, "\(failing.stdout)\n\(failing.stderr)")
        #expect(failing.stdout.contains("objects kept") && failing.stdout.contains("3 on a lookup error"), "\(failing.stdout)")
        #expect(failing.stdout.contains("error: 2024-01-01/s-gone.mp4 in \(u.root): kept: could not tell whether sessionId 's-gone' exists"), "\(failing.stdout)")
        #expect(try await u.listing() == before)
        let stats = try await proxy.stats()
        #expect(stats.faultCount > 0 && stats.mostAttempts <= 5, "\(stats.byRequest)")
    }

    /// A folder of files owned by rows of a SQLite table, judged by their modification time.
    @Test func aFolderWithSQLiteOwners() throws {
        let folder = TemporaryFolder("e2e-cleanup-local")
        defer { folder.remove() }
        let now = Date()
        try Self.writeOld(folder("files/7/full.jpg"), size: 700, age: 3 * 86_400, now: now)
        try Self.writeOld(folder("files/7/thumb.jpg"), size: 70, age: 3 * 86_400, now: now)
        try Self.writeOld(folder("files/8/full.jpg"), size: 800, age: 3 * 86_400, now: now)
        try Self.writeOld(folder("files/9/full.jpg"), size: 900, age: 3600, now: now)
        try Self.writeOld(folder("files/index.html"), size: 10, age: 3 * 86_400, now: now)
        let sql = try Process.run(URL(fileURLWithPath: "/usr/bin/env"), arguments: ["sqlite3", folder("app.db"), "CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO files VALUES (8, 'kept');"])
        sql.waitUntilExit()
        try #require(sql.terminationStatus == 0)
        let arguments = ["cleanup", "files", "--key-regex", "^([0-9]+)/", "--owner", "sqlite:app.db#files#id", "--orphans-older-than", "48h"]
        let before = Self.snapshot(folder)

        let dry = try BuiltBinary.run(arguments + ["--dry-run", "--json"], in: folder.path)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(Self.snapshot(folder) == before, "a dry run changed the folder")
        let planned = try #require(try Self.json(dry.stdout)["actions"] as? [[String: Any]])
        #expect(Set(planned.compactMap { $0["target"] as? String }) == [folder("files/7/full.jpg"), folder("files/7/thumb.jpg")])

        let real = try BuiltBinary.run(arguments + ["--json"], in: folder.path)
        #expect(real.status == 0, "\(real.stderr)")
        let summary = try Self.json(real.stdout)
        #expect(summary["objects_deleted"] as? Int == 2 && summary["bytes_freed"] as? Int == 770)
        #expect(summary["objects_too_recent"] as? Int == 1 && summary["objects_owned"] as? Int == 1 && summary["objects_unmatched"] as? Int == 1)
        #expect(folder.files(under: "files") == ["8/full.jpg", "9/full.jpg", "index.html"])
    }

    @Test func archiversOwnLeftoversThroughTheConfigurationFile() async throws {
        let folder = TemporaryFolder("e2e-cleanup-state")
        defer { folder.remove() }
        let letters = try DeadLetterFolder(stateFolder: folder("state"))
        let old = DeadLetter(source: "jsonl:f", partition: "", position: "line 1", reason: "r", code: "malformed-json", raw: [1], at: Date().addingTimeInterval(-100 * 86_400))
        let recent = DeadLetter(source: "jsonl:f", partition: "", position: "line 2", reason: "r", code: "malformed-json", raw: [1], at: Date())
        try await letters.write([old, recent])
        let dead = try Self.deadProcessID()
        try Self.writeOld(folder("archive/.tmp/2/\(dead)-5"), size: 50, age: 0, now: Date())
        try Self.writeOld(folder("archive/2024/01/15/k.json.gz"), size: 50, age: 0, now: Date())
        try "state: state\narchive: archive\ncleanup:\n  dead-letters-older-than: 90d\n".write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)

        let check = try await BuiltBinary.run(["config", "check", "archiver.yml", "--json"], in: folder.path)
        #expect(check.status == 0, "\(check.stderr)")
        let settings = try #require(try Self.json(check.stdout)["settings"] as? [String: Any])
        #expect((settings["cleanup"] as? [String: Any])?["dead-letters-older-than"] as? String == "90d", "\(check.stdout)")
        let run = try await BuiltBinary.run(["cleanup", "--config", "archiver.yml"], in: folder.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.row("temporary files removed", in: run.stdout) == "1" && Self.row("dead letters removed", in: run.stdout) == "1", "\(run.stdout)")
        #expect(folder.files(under: "archive") == ["2024/01/15/k.json.gz"])
        #expect(folder.files(under: "state/dead-letters") == ["\(recent.id).json"])
    }

    @Test(arguments: [
        (["s3://b/uploads/x/", "--archive", "s3://b/uploads"], "overlaps the archive"),
        (["s3://b/uploads/", "--key-pattern", "*/{id}.*"], "--key-pattern needs --owner"),
        (["s3://b/uploads/", "--owner", "dynamodb:t"], "--owner needs --key-pattern"),
        (["--owner", "dynamodb:t", "--key-pattern", "{id}"], "apply to a root: name it"),
        (["s3://b/uploads/", "--key-pattern", "uploads/{date}/{sessionId}.{ext}", "--owner", "dynamodb:t"], "uploads/{date}/*.*"),
        (["s3://b/uploads/", "--owner", "mysql:t", "--key-pattern", "{id}"], "not an owner table"),
        (["s3://b/uploads/", "--orphans-older-than", "a while"], "not a duration"),
        ([], "nothing to clean"),
        (["--state", "no-such-state"], "there is no state folder at"),
        (["null:"], "holds nothing to clean"),
    ])
    func badCommandLinesAreRefusedBeforeAnythingRuns(arguments: [String], message: String) throws {
        let folder = TemporaryFolder("e2e-cleanup-bad")
        defer { folder.remove() }
        let result = try BuiltBinary.run(["cleanup"] + arguments, in: folder.path, environment: ["ARCHIVER_CONFIG": "", "ARCHIVER_STATE": "", "ARCHIVER_ARCHIVE": ""])
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// The value of a `label  value` row of a text summary.
    static func row(_ label: String, in text: String) -> String? {
        text.split(separator: "\n").first { $0.hasPrefix(label + " ") }.map { $0.dropFirst(label.count).trimmingCharacters(in: .whitespaces) }
    }

    static func writeOld(_ path: String, size: Int, age: TimeInterval, now: Date) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(repeating: 3, count: size).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.modificationDate: now.addingTimeInterval(-age)], ofItemAtPath: path)
    }

    /// Every file under the folder with its size and modification time.
    static func snapshot(_ folder: TemporaryFolder) -> [String] {
        folder.files().map { name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: folder(name))
            return "\(name) \(attributes?[.size] ?? "") \((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        }
    }

    static func deadProcessID() throws -> Int32 {
        let process = try Process.run(URL(fileURLWithPath: "/bin/true"), arguments: [])
        process.waitUntilExit()
        return process.processIdentifier
    }
}
