import AWSClients
import ArchiverAWS
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// The built `archiver` against an S3 archive on moto, checked against a folder run and a boto3 peer.
@Suite("archiver with an S3 archive")
struct S3EndToEndTests {
    /// A feed, a fresh bucket, and the environment pointing the binary at moto.
    struct Setup {
        let folder = TemporaryFolder("s3e2e")
        let server: MotoServer
        let s3: S3Client
        let bucket: String
        let environment: [String: String]
        let counts: SampleFeed.Counts

        init(records: Int = 400, server: MotoServer? = nil, credentials: AWSCredentials = MotoServer.credentials) async throws {
            let server: MotoServer = if let server { server } else { try await MotoServer.shared() }
            self.server = server
            s3 = S3Client(settings: server.settings(credentials: credentials), retryPolicy: RetryPolicy(maxAttempts: 2))
            bucket = MotoServer.uniqueName("e2e")
            try await s3.createBucket(bucket)
            environment = server.awsEnvironment(credentials: credentials)
            counts = try SampleFeed.write(0..<records, to: folder("feed.jsonl"))
        }

        func run(_ arguments: [String], environment: [String: String]? = nil) throws -> BuiltBinary.Result {
            try BuiltBinary.run(arguments, in: folder.path, environment: environment ?? self.environment)
        }

        /// Every key in the bucket under `prefix`, in order.
        func keys(under prefix: String) async throws -> [String] {
            var keys: [String] = []
            for try await object in s3.listAllObjects(bucket: bucket, prefix: prefix) { keys.append(object.key) }
            return keys
        }
    }

    static func json(_ text: String) throws -> Any { try JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func tailWritesTheSameObjectsAsAFolderRunAndAPeerReadsThem() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        let tail = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "s3://\(s.bucket)/svc", "--state", "state", "--once", "--json"])
        #expect(tail.status == 0, "\(tail.stderr)")
        let summary = try Self.json(tail.stdout) as? [String: Any]
        #expect(summary?["archived"] as? Int == s.counts.removes)

        let local = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "local-state", "--once", "--json"])
        #expect(local.status == 0, "\(local.stderr)")
        let files = s.folder.files(under: "archive").filter { !$0.hasPrefix(".") }.sorted()
        #expect(files.count == s.counts.removes)

        let keys = try await s.keys(under: "svc/")
        #expect(keys.count == s.counts.removes)
        #expect(keys.map { String($0.dropFirst(4)) } == files)
        for file in files.prefix(25) {
            let local = Array(try Data(contentsOf: URL(fileURLWithPath: s.folder("archive/" + file))))
            #expect(try await s.s3.getObject(bucket: s.bucket, key: "svc/" + file) == local, "\(file)")
        }
        let head = try #require(try await s.s3.headObject(bucket: s.bucket, key: "svc/" + files[0]))
        #expect(head.contentType == "application/gzip")
        #expect(head.contentEncoding == nil)
        #expect(head.metadata["archiver-kind"] != nil)

        // A peer reads an object back: gunzip gives the record line.
        if AWSPeer.boto3Available() {
            let peer = try AWSPeer.boto3GetObject(server: s.server, bucket: s.bucket, key: "svc/" + files[0])
            #expect(peer.status == 0, "\(peer.stderr)")
            let local = Array(try Data(contentsOf: URL(fileURLWithPath: s.folder("archive/" + files[0]))))
            #expect(try gunzip(peer.stdout) == (try gunzip(local)))
            #expect(String(decoding: try gunzip(peer.stdout), as: UTF8.self).contains("\"eventName\":\"REMOVE\""))
        }

        // A second run has nothing new; the objects are unchanged.
        let again = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "s3://\(s.bucket)/svc", "--state", "state", "--once", "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect((try Self.json(again.stdout) as? [String: Any])?["archived"] as? Int == 0)
        #expect(try await s.keys(under: "svc/").count == s.counts.removes)
    }

    @Test func anObjectWrittenByAPeerIsListedAndRestored() async throws {
        guard AWSPeer.boto3Available() else { return }
        let s = try await Setup(records: 100)
        defer { s.folder.remove() }
        let local = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once", "--json"])
        #expect(local.status == 0, "\(local.stderr)")
        let key = try #require(s.folder.files(under: "archive").filter { !$0.hasPrefix(".") }.sorted().first)
        let record = try gunzip(Array(try Data(contentsOf: URL(fileURLWithPath: s.folder("archive/" + key)))))
        // The peer gzips the record line itself and uploads it under the archive key.
        let script = """
            import sys, gzip, boto3
            boto3.client("s3").put_object(Bucket=sys.argv[1], Key=sys.argv[2], Body=gzip.compress(sys.stdin.buffer.read()),
                                          ContentType="application/gzip")
            """
        let put = try AWSPeer.python(script, arguments: [s.bucket, "peer/" + key], environment: s.environment, input: record)
        #expect(put.status == 0, "\(put.stderr)")

        let ls = try s.run(["ls", "--archive", "s3://\(s.bucket)/peer", "--json"])
        #expect(ls.status == 0, "\(ls.stderr)")
        let entries = try Self.json(ls.stdout) as? [[String: Any]] ?? []
        #expect(entries.map { $0["key"] as? String } == [key])

        let restored = try s.run(["restore", key, "--archive", "s3://\(s.bucket)/peer", "--to", "-"])
        #expect(restored.status == 0, "\(restored.stderr)")
        let image = try #require(
            ((try JSONSerialization.jsonObject(with: Data(record))) as? [String: Any])?["dynamodb"] as? [String: Any])["OldImage"]
        let printed = try Self.json(restored.stdout)
        #expect(NSDictionary(dictionary: printed as? [String: Any] ?? [:]).isEqual(to: image as? [String: Any] ?? ["x": 1]), "\(restored.stdout)")
    }

    @Test func syncCopiesAMonthByteExactAndThenSkipsEverything() async throws {
        let s = try await Setup()
        defer { s.folder.remove() }
        let tail = try s.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "s3://\(s.bucket)/svc", "--state", "state", "--once", "--json"])
        #expect(tail.status == 0, "\(tail.stderr)")
        let inMonth = try await s.keys(under: "svc/2024/01/").map { String($0.dropFirst(4)) }
        #expect(!inMonth.isEmpty)
        let first = try s.run(["sync", "2024-01", "copy", "--archive", "s3://\(s.bucket)/svc", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect((try Self.json(first.stdout) as? [String: Any])?["copied"] as? Int == inMonth.count)
        #expect(s.folder.files(under: "copy").filter { !$0.hasPrefix(".") }.sorted() == inMonth)
        for key in inMonth {
            let copy = Array(try Data(contentsOf: URL(fileURLWithPath: s.folder("copy/" + key))))
            #expect(copy == (try await s.s3.getObject(bucket: s.bucket, key: "svc/" + key)), "\(key)")
        }
        let second = try s.run(["sync", "2024-01", "copy", "--archive", "s3://\(s.bucket)/svc", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let again = try Self.json(second.stdout) as? [String: Any]
        #expect(again?["copied"] as? Int == 0)
        #expect(again?["skipped"] as? Int == inMonth.count)
    }

    @Test func aWrongSecretStopsTheTailAtOnceWithoutACheckpoint() async throws {
        // Four unauthenticated actions: the IAM user, its policy and key, and the bucket; then moto checks signatures.
        let server = try await MotoServer.start(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "4"])
        defer { server.stop() }
        let credentials = try await MotoIAM(server: server).createUserWithAccessKey(userName: "archiver-e2e")
        let s = try await Setup(records: 50, server: server, credentials: credentials)
        defer { s.folder.remove() }

        let wrongSecret = "wrong-secret-\(UUID().uuidString)"
        let wrong = server.awsEnvironment(credentials: AWSCredentials(accessKeyID: credentials.accessKeyID, secretAccessKey: wrongSecret))
        let started = Date()
        let tail = try s.run(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "s3://\(s.bucket)/svc", "--state", "state", "--once", "--json"],
            environment: wrong)
        #expect(tail.status != 0)
        #expect(Date().timeIntervalSince(started) < 30)
        let output = tail.stdout + tail.stderr
        #expect(output.contains("SignatureDoesNotMatch") || output.contains("InvalidAccessKeyId"), "\(output)")
        #expect(!output.contains(wrongSecret))
        #expect(!output.contains(credentials.secretAccessKey))
        // (moto checks signatures on the decoded query, so listings here use prefixes of unreserved characters)
        #expect(try await s.keys(under: "svc").isEmpty)
        let database = s.folder("state/archiver.sqlite")
        if FileManager.default.fileExists(atPath: database) {
            let query = Process()
            query.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
            query.arguments = [database, "SELECT count(*) FROM checkpoints"]
            let pipe = Pipe()
            query.standardOutput = pipe
            try query.run()
            let text = String(decoding: pipe.readToEnd(), as: UTF8.self)
            query.waitUntilExit()
            #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "checkpoints: \(text)")
        }

        // No "the right key works" run here: moto with signature checks rebuilds the canonical request from the
        // decoded path, so keys with '%', '=' or '+' (which archive names of the sample feed carry) fail under moto
        // even when signed right; boto3 fails on the same keys. AuthMotoTests covers correct signatures.
    }
}

@Suite("archiver lifecycle on an S3 bucket")
struct S3LifecycleEndToEndTests {
    @Test func applyThenShowRoundTrips() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("lifecycle")
        try await s3.createBucket(bucket)
        let environment = server.awsEnvironment()
        let policy = PackagePaths.root + "/lifecycle/default.json"

        let empty = try await BuiltBinary.run(["lifecycle", "show", "--archive", "s3://\(bucket)"], environment: environment)
        #expect(empty.status == 0, "\(empty.stderr)")

        let apply = try await BuiltBinary.run(["lifecycle", "apply", "--archive", "s3://\(bucket)", "--policy", policy], environment: environment)
        #expect(apply.status == 0, "\(apply.stderr)")
        #expect(apply.stderr.contains("replaces the whole lifecycle configuration"))

        let show = try await BuiltBinary.run(["lifecycle", "show", "--archive", "s3://\(bucket)"], environment: environment)
        #expect(show.status == 0, "\(show.stderr)")
        let shown = try LifecyclePolicy.decode(Array(show.stdout.utf8))
        let expected = try LifecyclePolicy.load(path: policy)
        #expect(shown == expected)
        #expect(try await BucketLifecycle(location: .s3(bucket: bucket, prefix: ""), client: s3).configuration() == expected)

        // Applying again names the rules it replaces.
        let again = try await BuiltBinary.run(["lifecycle", "apply", "--archive", "s3://\(bucket)", "--policy", policy], environment: environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("\(expected.rules.count) rule"))

        // A folder has no bucket configuration.
        let folder = try await BuiltBinary.run(["lifecycle", "show", "--archive", "/tmp"], environment: environment)
        #expect(folder.status != 0)
    }

    @Test func planReadsAnS3Archive() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("lcplan")
        try await s3.createBucket(bucket)
        let folder = TemporaryFolder("lcplan")
        defer { folder.remove() }
        _ = try SampleFeed.write(0..<100, to: folder("feed.jsonl"))
        let environment = server.awsEnvironment()
        let tail = try await BuiltBinary.run(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "s3://\(bucket)/svc", "--state", "state", "--once"], in: folder.path,
            environment: environment)
        #expect(tail.status == 0, "\(tail.stderr)")
        let plan = try await BuiltBinary.run(
            ["lifecycle", "plan", "--archive", "s3://\(bucket)/svc", "--policy", PackagePaths.root + "/lifecycle/default.json", "--json"],
            in: folder.path, environment: environment)
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("last-modified"), "\(plan.stdout)")
        let enforce = try await BuiltBinary.run(
            ["lifecycle", "enforce", "--archive", "s3://\(bucket)/svc", "--policy", PackagePaths.root + "/lifecycle/default.json", "--json"],
            in: folder.path, environment: environment)
        #expect(enforce.status == 0, "\(enforce.stderr)")
    }
}
