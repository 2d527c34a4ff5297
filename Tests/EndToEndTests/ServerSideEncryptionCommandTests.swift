import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// `archiver tail --sse …` and `dlq retry --sse …`: what is accepted, what is refused and why, and what S3 stores.
@Suite("--sse on the command line")
struct ServerSideEncryptionCommandTests {
    static let feed = PackagePaths.root + "/fixtures/feed.jsonl"

    @Test(arguments: [
        (["--sse-kms-key-id", "k1"], "--sse-kms-key-id needs --sse aws:kms"),
        (["--sse", "AES256", "--sse-kms-key-id", "k1"], "--sse-kms-key-id needs --sse aws:kms, not --sse AES256"),
        (["--sse", "aes128"], "'aes128' is not a server-side encryption; use AES256 or aws:kms"),
        (["--sse", "aws:kms", "--sse-kms-key-id", "my key"], "is not a KMS key id"),
    ])
    func refusedCombinationsSayWhatIsWrong(_ options: [String], _ message: String) throws {
        let folder = TemporaryFolder("sse-cli")
        defer { folder.remove() }
        let result = try BuiltBinary.run(
            ["tail", "--source", "jsonl:\(Self.feed)", "--archive", "s3://bucket/x", "--state", "state", "--once"] + options, in: folder.path)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder("state")), "a refused command must not start")
    }

    @Test func aFolderArchiveRefusesSSE() throws {
        let folder = TemporaryFolder("sse-cli-folder")
        defer { folder.remove() }
        for command in [
            ["tail", "--source", "jsonl:\(Self.feed)", "--archive", "archive", "--state", "state", "--once", "--sse", "AES256"],
            ["dlq", "retry", "--state", "state", "--archive", "archive", "--sse", "aws:kms"],
        ] {
            let result = try BuiltBinary.run(command, in: folder.path)
            #expect(result.status == 64, "\(result.stderr)")
            #expect(result.stderr.contains("--sse applies to s3:// archives; 'archive' is not one"), "\(result.stderr)")
        }
    }

    @Test func tailWritesKMSEncryptedObjects() async throws {
        let server = try await MotoServer.shared()
        let folder = TemporaryFolder("sse-cli-moto")
        defer { folder.remove() }
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("sse-cli")
        try await s3.createBucket(bucket)
        let keyID = "arn:aws:kms:us-east-1:123456789012:key/11112222-3333-4444-5555-666677778888"
        let result = try await BuiltBinary.run(
            ["tail", "--source", "jsonl:\(Self.feed)", "--archive", "s3://\(bucket)/kms", "--state", "state", "--once",
             "--sse", "aws:kms", "--sse-kms-key-id", keyID],
            in: folder.path, environment: server.awsEnvironment())
        #expect(result.status == 0, "\(result.stderr)")
        var keys: [String] = []
        for try await object in s3.listAllObjects(bucket: bucket, prefix: "kms/") { keys.append(object.key) }
        #expect(keys.count == 146)
        for key in keys.prefix(5) {
            let head = try #require(try await s3.headObject(bucket: bucket, key: key))
            #expect(head.serverSideEncryption == "aws:kms", "\(key)")
            #expect(head.serverSideEncryptionKMSKeyID == keyID, "\(key)")
        }
    }
}
