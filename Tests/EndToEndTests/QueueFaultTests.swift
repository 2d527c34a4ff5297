import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// `queue run` through `scripts/fault-proxy.py` at 30% faults (500s, SlowDown, throttling, resets before and after
/// the request reached moto, stalls past the timeout, truncated bodies) and half the keys of each DeleteObjects call
/// failed on their own: every action completes or is parked after its max attempts with its last error, and each
/// entry's attempts are exactly its recorded errors (plus the one that completed it).
extension FaultProxyTests {
    @Test func queueRunThroughFaultsCompletesOrParksEveryActionWithItsAttemptsCounted() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let content = MotoServer.uniqueName("fault-content")
        let archives = MotoServer.uniqueName("fault-archives")
        try await s3.createBucket(content)
        try await s3.createBucket(archives)
        let folder = TemporaryFolder("queue-faults")
        defer { folder.remove() }
        let share = FaultSoak.share(ci: 0.3)
        let count = FaultSoak.records(ci: 1_200) / 6

        var lines: [String] = []
        var uploads: [String: String] = [:]
        for n in 0..<count {
            try await s3.putObject(bucket: content, key: "uploads/videos/\(n).mp4", body: Array("video \(n)".utf8))
            var image = #","key":{"S":"videos/\#(n).mp4"}"#
            if n % 20 == 0 {
                let id = try await s3.createMultipartUpload(bucket: content, key: "uploads/big/\(n).mp4")
                if n % 40 == 0 { _ = try await s3.uploadPart(bucket: content, key: "uploads/big/\(n).mp4", uploadID: id, partNumber: 1, body: [1, 2, 3]) }
                uploads["big/\(n).mp4"] = id
                image += #","bigKey":{"S":"big/\#(n).mp4"},"uploadId":{"S":"\#(id)"}"#
            }
            if n % 25 == 0 {
                for file in ["a", "b/c"] { try await s3.putObject(bucket: content, key: "uploads/users/\(n)/\(file)", body: [1]) }
                image += #","userId":{"S":"\#(n)"}"#
            }
            lines.append(#"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"UPLOAD#\#(n)"}},"OldImage":{"PK":{"S":"UPLOAD#\#(n)"}\#(image)},"SequenceNumber":"\#(900_000 + n)"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/uploads/stream/x"}"#)
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        try """
            state: state
            archive: s3://\(archives)/uploads
            roots:
              uploads: s3://\(content)/uploads/
            rules:
              - name: videos
                match: {table: uploads}
                actions:
                  - delete-object: {root: uploads, key: "{OldImage.key.S}", keep: true}
              - name: big-uploads
                match: {table: uploads, where: ["OldImage.uploadId.S exists"]}
                actions:
                  - abort-multipart: {root: uploads, key: "{OldImage.bigKey.S}", upload-id: "{OldImage.uploadId.S}"}
              - name: user-folders
                match: {table: uploads, where: ["OldImage.userId.S exists"]}
                actions:
                  - delete-prefix: {root: uploads, prefix: "users/{OldImage.userId.S}/", min-depth: 2}
            queue:
              max-attempts: 3
              batch-size: 40
              backoff: {base: 10ms, max: 100ms}
              lease: 1m
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        // Archived straight to moto; only the actions go through the faults.
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once", "--no-queue"], in: folder.path, environment: server.binaryEnvironment())
        #expect(tail.status == 0, "\(tail.stderr)")

        let proxy = try FaultProxy(frontOf: server, faults: Self.faults(total: share), stallSeconds: 3, keyErrors: 0.5)
        defer { proxy.stop() }
        var environment = Self.environment(proxy)
        environment["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
        var runs = 0
        var entries: [[String: Any]] = []
        repeat {
            runs += 1
            let run = try await BuiltBinary.run(["queue", "run", "--config", "archiver.yml", "--once", "--json"], in: folder.path, environment: environment)
            #expect(run.status == 0, "\(run.stderr.suffix(2000))")
            try await Task.sleep(for: .milliseconds(150))
            let list = try await BuiltBinary.run(["queue", "list", "--config", "archiver.yml", "--limit", "0", "--json"], in: folder.path)
            entries = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8))) as? [[String: Any]] ?? []
        } while entries.contains(where: { !["completed", "parked"].contains($0["state"] as? String) }) && runs < 30

        let expected = count + uploads.count + (0..<count).filter { $0 % 25 == 0 }.count
        #expect(entries.count == expected)
        var parked = 0
        for entry in entries {
            let state = entry["state"] as? String
            let attempts = entry["attempts"] as? Int ?? -1
            let errors = entry["errors"] as? [[String: Any]] ?? []
            let target = (entry["target"] as? [String: Any]) ?? [:]
            switch state {
            case "completed":
                #expect(attempts == errors.count + 1, "a completed entry's attempts are its errors and one success: \(entry)")
                if let key = target["key"] as? String, entry["action"] as? String == "delete-object" {
                    #expect(try await s3.headObject(bucket: content, key: "uploads/" + key) == nil, "\(key) is completed and still there")
                }
            case "parked":
                parked += 1
                #expect(attempts == 3 && errors.count == 3, "a parked entry ran out of its 3 attempts, each recorded: \(entry)")
                #expect((entry["last_error"] as? String)?.isEmpty == false && errors.last?["error"] as? String == entry["last_error"] as? String)
            default:
                Issue.record("an entry is neither completed nor parked: \(entry)")
            }
        }
        // The videos of completed entries were kept, and the unfinished uploads of completed entries are gone.
        let inProgress = Set(try await s3.listMultipartUploads(bucket: content).map(\.uploadID))
        for entry in entries where entry["action"] as? String == "abort-multipart" && entry["state"] as? String == "completed" {
            #expect(!inProgress.contains((entry["target"] as? [String: Any])?["upload_id"] as? String ?? ""))
        }
        let stats = try await proxy.stats()
        #expect(stats.faultCount > 50 && (stats.faults["key-error"] ?? 0) > 20, "the proxy injected too few faults: \(stats.faults)")
        #expect(stats.mostAttempts <= 5, "a call made more than the 5 attempts of the retry policy")
        FileHandle.standardError.write(Data("fault test: queue run: \(entries.count) entries, \(parked) parked after 3 attempts, \(runs) runs, faults \(stats.faults)\n".utf8))
    }
}
