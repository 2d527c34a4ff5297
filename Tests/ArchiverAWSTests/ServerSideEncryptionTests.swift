import ArchiverAWS
import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// `--sse`: the S3 store asks for server-side encryption on every write, single PUTs and multipart
/// uploads alike, and S3 (moto) reports it back on HEAD.
@Suite("Server-side encryption of S3 archive objects")
struct ServerSideEncryptionTests {
    static let key = "2024/01/15/USER#1_P.103000.1.manual.json.gz"
    static let bigKey = "2024/01/15/BIG.103000.2.manual.json.gz"

    /// Writes one small object and one large enough to go up in parts; returns both HEADs.
    func writeBoth(_ encryption: S3ServerSideEncryption?) async throws -> (small: S3ObjectHead, large: S3ObjectHead) {
        let f = try await S3StoreFixture(name: "sse")
        let store = S3ArchiveStore(
            client: f.s3, bucket: f.bucket, prefix: "svc", multipartThreshold: 5 * 1024 * 1024, serverSideEncryption: encryption)
        let small = GzipEncoder().compress(Array(#"{"eventName":"REMOVE"}"#.utf8))
        let large = (0..<(6 * 1024 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 9) }
        let failures = await store.put([ArchiveObject(key: Self.key, body: small), ArchiveObject(key: Self.bigKey, body: large)])
        #expect(failures.isEmpty, "\(failures)")
        #expect(try await store.get(Self.bigKey) == large)
        let smallHead = try #require(try await f.s3.headObject(bucket: f.bucket, key: "svc/" + Self.key))
        let largeHead = try #require(try await f.s3.headObject(bucket: f.bucket, key: "svc/" + Self.bigKey))
        return (smallHead, largeHead)
    }

    @Test func aes256OnSinglePutsAndMultipartUploads() async throws {
        let (small, large) = try await writeBoth(.aes256)
        #expect(small.serverSideEncryption == "AES256")
        #expect(large.serverSideEncryption == "AES256")
        #expect(large.etag.map { $0.contains("-") } == true, "the large object did not go up in parts")
    }

    @Test func kmsWithAKeyOnSinglePutsAndMultipartUploads() async throws {
        let keyID = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        let (small, large) = try await writeBoth(.kms(keyID: keyID))
        #expect(small.serverSideEncryption == "aws:kms")
        #expect(large.serverSideEncryption == "aws:kms")
        #expect(small.serverSideEncryptionKMSKeyID == keyID)
        #expect(large.serverSideEncryptionKMSKeyID == keyID)
    }

    @Test func kmsWithTheDefaultKey() async throws {
        let (small, large) = try await writeBoth(.kms(keyID: nil))
        #expect(small.serverSideEncryption == "aws:kms")
        #expect(large.serverSideEncryption == "aws:kms")
    }

    @Test func withoutSSETheStoreAsksForNothing() async throws {
        let (small, large) = try await writeBoth(nil)
        // moto, like S3 without a bucket policy, reports no encryption (S3 itself now reports AES256 by default).
        #expect(small.serverSideEncryption == nil || small.serverSideEncryption == "AES256")
        #expect(small.serverSideEncryptionKMSKeyID == nil && large.serverSideEncryptionKMSKeyID == nil)
    }

}
