import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// An upload table whose items own S3 objects (the README's worked example), on moto, through the built binary:
/// objects kept then deleted, a user's prefix emptied, unfinished multipart uploads (with and without parts)
/// aborted, the queue commands, and the files put back by `restore --with-files`.
@Suite("Queue end to end on moto: an upload table whose items own S3 objects", .serialized)
struct QueueS3EndToEndTests {
    struct Setup {
        let server: MotoServer
        let s3: S3Client
        let content: String
        let archives: String
        let folder = TemporaryFolder("queue-s3")

        init() async throws {
            server = try await MotoServer.shared()
            s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
            content = MotoServer.uniqueName("content")
            archives = MotoServer.uniqueName("archives")
            try await s3.createBucket(content)
            try await s3.createBucket(archives)
        }

        var environment: [String: String] { server.binaryEnvironment() }

        func run(_ arguments: [String]) throws -> BuiltBinary.Result {
            try BuiltBinary.run(arguments, in: folder.path, environment: environment)
        }

        func keys(_ bucket: String, under prefix: String = "") async throws -> [String] {
            var keys: [String] = []
            for try await object in s3.listAllObjects(bucket: bucket, prefix: prefix) { keys.append(object.key) }
            return keys.sorted()
        }

        /// The configuration of the README's example, for these buckets.
        func writeConfiguration(extra: String = "") throws {
            try """
                state: state
                archive: s3://\(archives)/uploads
                roots:
                  uploads: s3://\(content)/uploads/
                rules:
                  - name: upload-files
                    match:
                      table: uploads
                      where: ["OldImage.status.S == uploaded"]
                    actions:
                      - delete-object: {root: uploads, key: "{OldImage.key.S}", keep: true}
                  - name: unfinished-uploads
                    match:
                      table: uploads
                      where: ["OldImage.status.S == uploading", "OldImage.s3UploadId.S exists"]
                    actions:
                      - abort-multipart: {root: uploads, key: "{OldImage.key.S}", upload-id: "{OldImage.s3UploadId.S}"}
                  - name: user-files
                    match: {table: users, kind: manual}
                    actions:
                      - delete-prefix: {root: uploads, prefix: "users/{Keys.PK.S|strip-prefix:USER#}/", min-depth: 2}
                queue:
                  backoff: {base: 10ms, max: 100ms}
                \(extra)
                """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        }
    }

    /// A REMOVE of `table` with `image` (DynamoDB JSON members) and key PK.
    static func remove(_ n: Int, table: String, pk: String, image: String) -> String {
        #"{"eventID":"e\#(n)","eventName":"REMOVE","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"\#(pk)"}},"OldImage":{"PK":{"S":"\#(pk)"}\#(image)},"SequenceNumber":"\#(500_000 + n)","SizeBytes":100,"StreamViewType":"NEW_AND_OLD_IMAGES"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:123456789012:table/\#(table)/stream/2024-01-01T00:00:00.000"}"#
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func theFilesOfDeletedItemsGoAfterTheItemsAreArchivedAndComeBackWithThem() async throws {
        let setup = try await Setup()
        defer { setup.folder.remove() }
        let s3 = setup.s3
        // 20 uploaded videos, 2 unfinished uploads (one without parts, one with), a user's folder, and neighbours.
        var lines: [String] = []
        for n in 0..<20 {
            try await s3.putObject(bucket: setup.content, key: "uploads/videos/\(n).mp4", body: Array("video \(n)".utf8))
            lines.append(Self.remove(n, table: "uploads", pk: "UPLOAD#\(n)", image: #","key":{"S":"videos/\#(n).mp4"},"status":{"S":"uploaded"}"#))
        }
        let bare = try await s3.createMultipartUpload(bucket: setup.content, key: "uploads/videos/big-0.mp4")
        let started = try await s3.createMultipartUpload(bucket: setup.content, key: "uploads/videos/big-1.mp4")
        for part in 1...2 { _ = try await s3.uploadPart(bucket: setup.content, key: "uploads/videos/big-1.mp4", uploadID: started, partNumber: part, body: [UInt8](repeating: 1, count: 4096)) }
        lines.append(Self.remove(20, table: "uploads", pk: "UPLOAD#big-0", image: #","key":{"S":"videos/big-0.mp4"},"status":{"S":"uploading"},"s3UploadId":{"S":"\#(bare)"}"#))
        lines.append(Self.remove(21, table: "uploads", pk: "UPLOAD#big-1", image: #","key":{"S":"videos/big-1.mp4"},"status":{"S":"uploading"},"s3UploadId":{"S":"\#(started)"}"#))
        for file in ["users/42/a.png", "users/42/albums/1/b.png"] { try await s3.putObject(bucket: setup.content, key: "uploads/" + file, body: [1]) }
        lines.append(Self.remove(22, table: "users", pk: "USER#42", image: #","name":{"S":"Ana"}"#))
        let neighbours = ["uploads/videos/20.mp4", "uploads/users/420/c.png", "uploads/users/4", "other/videos/1.mp4", "uploads-old/videos/1.mp4"]
        for key in neighbours { try await s3.putObject(bucket: setup.content, key: key, body: Array(key.utf8)) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: setup.folder("feed.jsonl"), atomically: true, encoding: .utf8)
        try setup.writeConfiguration()

        let tail = try setup.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once", "--json"])
        #expect(tail.status == 0, "\(tail.stderr)")
        let summary = Self.json(tail.stdout)
        #expect(summary["archived"] as? Int == 23 && summary["actions_enqueued"] as? Int == 23)
        #expect((summary["queue"] as? [String: Any])?["completed"] as? Int == 23, "\(tail.stdout)")

        // What the deleted items owned is gone; their neighbours are not.
        let left = try await setup.keys(setup.content)
        #expect(left == neighbours.sorted())
        #expect(try await s3.listMultipartUploads(bucket: setup.content).isEmpty, "an unfinished upload was not aborted")
        // Each video is kept beside its record in the archive.
        let archived = try await setup.keys(setup.archives, under: "uploads/")
        let kept = archived.filter { $0.contains(".files/uploads/videos/") }
        #expect(kept.count == 20)
        for key in kept {
            let n = key.split(separator: "/").last!.prefix { $0 != "." }
            #expect(try await s3.getObject(bucket: setup.archives, key: key) == Array("video \(n)".utf8))
        }

        // The queue commands see the same.
        let stats = Self.json(try setup.run(["queue", "stats", "--config", "archiver.yml", "--json"]).stdout)
        #expect((stats["states"] as? [String: Int])?["completed"] == 23)
        let list = try setup.run(["queue", "list", "--config", "archiver.yml", "--rule", "unfinished-uploads", "--json"])
        let entries = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]] ?? []
        #expect(entries.count == 2 && entries.allSatisfy { ($0["outcome"] as? [String: Any])?["aborted"] as? Bool == true })
        let id = try #require(entries.first?["id"] as? String)
        let show = try setup.run(["queue", "show", String(id.prefix(8)), "--config", "archiver.yml"])
        #expect(show.status == 0 && show.stdout.contains(id) && show.stdout.contains("abort-multipart"), "\(show.stdout)\(show.stderr)")
        let report = try setup.run(["queue", "report", "--config", "archiver.yml"]).stdout.split(separator: "\n")
        #expect(report.count == 23 && report.allSatisfy { $0.hasPrefix("\(setup.content),uploads/") && $0.contains(",succeeded,,200,") })

        // Restore an upload and its video.
        let record = try #require(archived.first { $0.hasSuffix(".json.gz") && $0.contains("UPLOAD#7.") })
        let restore = try setup.run([
            "restore", String(record.dropFirst("uploads/".count)), "--archive", "s3://\(setup.archives)/uploads", "--to", "-", "--with-files",
            "--config", "archiver.yml",
        ])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try await s3.getObject(bucket: setup.content, key: "uploads/videos/7.mp4") == Array("video 7".utf8))
    }

    @Test func theQueueCommandsActOnIdsAndFilters() async throws {
        let setup = try await Setup()
        defer { setup.folder.remove() }
        // Uploads whose objects a policy denies... moto has none: entries fail through a root the worker is told has moved.
        var lines: [String] = []
        for n in 0..<6 {
            try await setup.s3.putObject(bucket: setup.content, key: "uploads/videos/\(n).mp4", body: [1])
            lines.append(Self.remove(n, table: "uploads", pk: "UPLOAD#\(n)", image: #","key":{"S":"videos/\#(n).mp4"},"status":{"S":"uploaded"}"#))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: setup.folder("feed.jsonl"), atomically: true, encoding: .utf8)
        try setup.writeConfiguration()
        #expect(try setup.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once", "--no-queue"]).status == 0)
        // The root moves: the entries were made for the old place and are refused (retried, then parked).
        let moved = try String(contentsOfFile: setup.folder("archiver.yml"), encoding: .utf8)
            .replacingOccurrences(of: "s3://\(setup.content)/uploads/", with: "s3://\(setup.content)/moved/")
        try moved.write(toFile: setup.folder("moved.yml"), atomically: true, encoding: .utf8)
        let failing = try setup.run(["queue", "run", "--config", "moved.yml", "--once", "--max-attempts", "1", "--json"])
        #expect(failing.status == 0 && Self.json(failing.stdout)["parked"] as? Int == 6, "\(failing.stdout)\(failing.stderr)")
        let parked = try setup.run(["queue", "list", "--state", "parked", "--config", "archiver.yml"])
        #expect(parked.stdout.split(separator: "\n").count == 6)
        #expect(parked.stdout.contains("the root 'uploads' is now"))
        // Cancel two by id, retry the parked rest, drop the cancelled, run, prune.
        let ids = parked.stdout.split(separator: "\n").map { String($0.prefix(16)) }
        let cancel = try setup.run(["queue", "cancel", ids[0], ids[1], "--config", "archiver.yml"])
        #expect(cancel.stdout.contains("cancelled 2 entries"), "\(cancel.stdout)\(cancel.stderr)")
        let retry = try setup.run(["queue", "retry", "--parked", "--config", "archiver.yml", "--json"])
        #expect(Self.json(retry.stdout)["retried"] as? Int == 4, "\(retry.stdout)\(retry.stderr)")
        let run = try setup.run(["queue", "run", "--config", "archiver.yml", "--once", "--json"])
        #expect(Self.json(run.stdout)["completed"] as? Int == 4, "\(run.stdout)\(run.stderr)")
        #expect(try await setup.keys(setup.content).count == 2, "the cancelled entries' objects stay")
        let drop = try setup.run(["queue", "drop", "--state", "cancelled", "--config", "archiver.yml", "--json"])
        #expect(Self.json(drop.stdout)["dropped"] as? Int == 2)
        let prune = try setup.run(["queue", "prune", "--completed-before", "0s", "--config", "archiver.yml", "--json"])
        #expect(Self.json(prune.stdout)["pruned"] as? Int == 4)
        let stats = Self.json(try setup.run(["queue", "stats", "--config", "archiver.yml", "--json"]).stdout)
        #expect(stats["total"] as? Int == 0)
        // Mistakes are refused with what to write.
        let bad = try setup.run(["queue", "list", "--state", "parkd", "--config", "archiver.yml"])
        #expect(bad.status != 0 && bad.stderr.contains("'parkd' is not a queue state"))
        let nothing = try setup.run(["queue", "drop", "--config", "archiver.yml"])
        #expect(nothing.status != 0 && nothing.stderr.contains("name the entries"))
        let unknown = try setup.run(["queue", "show", "ffffffff", "--config", "archiver.yml"])
        #expect(unknown.status != 0 && unknown.stderr.contains("no queue entry 'ffffffff'"))
    }
}
