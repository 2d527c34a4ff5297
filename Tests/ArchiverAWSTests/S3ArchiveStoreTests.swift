import ArchiverAWS
import AWSClients
import ArchiverCore
import Crypto
import Foundation
import Testing
import TestSupport

/// An S3 archive store on a fresh bucket of the shared moto server.
struct S3StoreFixture {
    let server: MotoServer
    let s3: S3Client
    let bucket: String
    let store: S3ArchiveStore

    init(prefix: String = "", name: String = "store") async throws {
        server = try await MotoServer.shared()
        s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        bucket = MotoServer.uniqueName(name)
        try await s3.createBucket(bucket)
        store = S3ArchiveStore(client: s3, bucket: bucket, prefix: prefix)
    }
}

@Suite("S3 archive store against moto")
struct S3ArchiveStoreTests {
    @Test func conformsToTheStoreContractAtTheBucketRoot() async throws {
        let f = try await S3StoreFixture(name: "conform-root")
        #expect(f.store.location == "s3://\(f.bucket)/")
        try await ArchiveStoreConformance.run(f.store)
    }

    @Test func conformsToTheStoreContractUnderAPrefix() async throws {
        let f = try await S3StoreFixture(prefix: "svc/archive/", name: "conform-prefix")
        #expect(f.store.location == "s3://\(f.bucket)/svc/archive/")
        // Something outside the prefix that must never show up.
        try await f.s3.putObject(bucket: f.bucket, key: "other/2023/12/01/X.000000.9.manual.json.gz", body: [1])
        try await f.s3.putObject(bucket: f.bucket, key: "svc/archivex/2023/12/01/Y.000000.9.manual.json.gz", body: [1])
        try await ArchiveStoreConformance.run(f.store)
        // Keys are stored under the prefix.
        let key = "2024/01/15/USER#123_PROFILE.103000.1.manual.json.gz"
        #expect(try await f.s3.headObject(bucket: f.bucket, key: "svc/archive/" + key) != nil)
        #expect(try await f.s3.headObject(bucket: f.bucket, key: key) == nil)
    }

    @Test func metadataContentTypeAndNoContentEncoding() async throws {
        let f = try await S3StoreFixture(name: "meta")
        let key = "2024/01/15/USER#1_P.103000.1.ttl.json.gz"
        let body = GzipEncoder().compress(Array(#"{"eventName":"REMOVE"}"#.utf8))
        let failures = await f.store.put([
            ArchiveObject(key: key, body: body, metadata: ["archiver-kind": "ttl", "archiver-deleted-at": "2024-01-15T10:30:00Z"])
        ])
        #expect(failures.isEmpty)
        let head = try #require(try await f.s3.headObject(bucket: f.bucket, key: key))
        #expect(head.metadata["archiver-kind"] == "ttl")
        #expect(head.metadata["archiver-deleted-at"] == "2024-01-15T10:30:00Z")
        #expect(head.contentType == "application/gzip")
        #expect(head.contentEncoding == nil)
    }

    @Test func bytesAreExactAndTheETagIsTheMD5() async throws {
        let f = try await S3StoreFixture(name: "bytes")
        var generator = SystemRandomNumberGenerator()
        let bodies: [[UInt8]] = [[], [0], (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &generator) }, Array(0...255)]
        let objects = bodies.enumerated().map { ArchiveObject(key: "2024/03/0\($0 + 1)/B#\($0).000000.\($0).manual.json.gz", body: $1) }
        #expect(await f.store.put(objects).isEmpty)
        for object in objects {
            #expect(try await f.store.get(object.key) == object.body)
            let head = try #require(try await f.store.head(object.key))
            let md5 = Insecure.MD5.hash(data: object.body).map { String(format: "%02x", $0) }.joined()
            #expect(head.etag == md5)
            #expect(head.size == Int64(object.body.count))
        }
        var listed: [StoredObject] = []
        for try await page in f.store.list(prefix: "2024/03/") { listed += page }
        #expect(listed.map(\.key) == objects.map(\.key))
        #expect(listed.allSatisfy { $0.etag?.count == 32 && $0.lastModified != nil })
    }

    @Test func aLargeBodyGoesUpInPartsWhole() async throws {
        let f = try await S3StoreFixture(name: "large")
        let store = S3ArchiveStore(client: f.s3, bucket: f.bucket, prefix: "", multipartThreshold: 5 * 1024 * 1024)
        let body = (0..<(11 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let key = "2024/04/01/BIG.000000.1.manual.json.gz"
        #expect(await store.put([ArchiveObject(key: key, body: body)]).isEmpty)
        #expect(try await store.get(key) == body)
        let head = try #require(try await store.head(key))
        #expect(head.size == Int64(body.count))
        #expect(head.etag == nil)  // a multipart ETag is not an MD5 of the bytes
    }

    @Test func aMissingBucketNeedsAttention() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 1))
        let store = S3ArchiveStore(client: s3, bucket: MotoServer.uniqueName("missing"), prefix: "")
        let failures = await store.put([ArchiveObject(key: "2024/01/01/A.000000.1.manual.json.gz", body: [1])])
        #expect(failures[0]?.isFailed == true, "\(failures)")
        #expect(failures[0]?.description.contains("NoSuchBucket") == true)
    }

    @Test func wrongCredentialsNeedAttentionAndNameNoSecret() async throws {
        let server = try await MotoServer.start(environment: ["INITIAL_NO_AUTH_ACTION_COUNT": "1"])
        defer { server.stop() }
        let admin = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 1))
        let bucket = MotoServer.uniqueName("auth")
        try await admin.createBucket(bucket)
        let secret = "wrong-secret-0123456789abcdef"
        let bad = S3Client(
            settings: server.settings(credentials: AWSCredentials(accessKeyID: "AKIAWRONGWRONGWRONG1", secretAccessKey: secret)),
            retryPolicy: RetryPolicy(maxAttempts: 1))
        let store = S3ArchiveStore(client: bad, bucket: bucket, prefix: "")
        let failures = await store.put([ArchiveObject(key: "2024/01/01/A.000000.1.manual.json.gz", body: [1])])
        let failure = try #require(failures[0])
        #expect(failure.isFailed, "\(failure)")
        #expect(failure.description.contains("InvalidAccessKeyId") || failure.description.contains("SignatureDoesNotMatch"), "\(failure)")
        #expect(!failure.description.contains(secret))
    }

    @Test func errorMapping() {
        func service(_ status: Int, _ code: String?) -> AWSError {
            AWSError.service(.s3, operation: "PutObject", status: status, code: code, message: "m")
        }
        #expect(S3ArchiveStore.storeError(service(503, "SlowDown"), writing: true).isUnavailable)
        #expect(S3ArchiveStore.storeError(service(500, "InternalError"), writing: true).isUnavailable)
        #expect(S3ArchiveStore.storeError(service(404, "NoSuchBucket"), writing: true).isFailed)
        #expect(S3ArchiveStore.storeError(service(403, "AccessDenied"), writing: true).isFailed)
        #expect(S3ArchiveStore.storeError(service(403, "SignatureDoesNotMatch"), writing: true).isFailed)
        #expect(S3ArchiveStore.storeError(service(400, "InvalidDigest"), writing: true).isRejected)
        #expect(S3ArchiveStore.storeError(service(400, "EntityTooLarge"), writing: true).isRejected)
        #expect(S3ArchiveStore.storeError(AWSError.transport(.s3, operation: "PutObject", reason: "reset"), writing: true).isUnavailable)
    }
}
