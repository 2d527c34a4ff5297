import AWSClients
import Foundation
import Testing
import TestSupport

/// Deterministic pseudo-random bytes.
func noise(_ count: Int, seed: UInt32 = 2463534242) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    var state = seed
    for i in bytes.indices {
        state ^= state << 13; state ^= state >> 17; state ^= state << 5
        bytes[i] = UInt8(truncatingIfNeeded: state)
    }
    return bytes
}

@Suite("S3 ranged reads and copies against moto")
struct S3CopyRangeMotoTests {
    @Test func rangedReadsReturnExactlyTheSlice() async throws {
        let f = try await S3Fixture("range")
        let body = noise(100_000)
        try await f.s3.putObject(bucket: f.bucket, key: "batch/obj.json.gz", body: body, contentType: "application/gzip")
        for (lower, upper) in [(0, 0), (0, 99), (12_345, 23_456), (99_990, 99_999)] {
            let part = try await f.s3.getObject(bucket: f.bucket, key: "batch/obj.json.gz", range: Int64(lower)...Int64(upper))
            #expect(part.body == Array(body[lower...upper]), "bytes \(lower)-\(upper)")
            #expect(part.range == Int64(lower)...Int64(upper))
            #expect(part.objectSize == 100_000)
            #expect(part.etag != nil)
        }
        // Past the end: cut at the end.
        let tail = try await f.s3.getObject(bucket: f.bucket, key: "batch/obj.json.gz", range: 99_000...200_000)
        #expect(tail.body == Array(body[99_000...]))
        #expect(tail.range == 99_000...99_999)
        // Starting past the end: S3's InvalidRange (416).
        let outside = await #expect(throws: AWSError.self) {
            try await f.s3.getObject(bucket: f.bucket, key: "batch/obj.json.gz", range: 100_000...100_010)
        }
        #expect(outside?.statusCode == 416)
        #expect(outside?.code == "InvalidRange")
        let missing = await #expect(throws: AWSError.self) { try await f.s3.getObject(bucket: f.bucket, key: "none", range: 0...1) }
        #expect(missing?.kind == .notFound)
    }

    @Test func rangedReadOfAnOlderVersion() async throws {
        let f = try await S3Fixture("rangeversion")
        try await f.s3.putBucketVersioning(bucket: f.bucket, status: .enabled)
        let old = try await f.s3.putObject(bucket: f.bucket, key: "k", body: Array("old-bytes".utf8))
        try await f.s3.putObject(bucket: f.bucket, key: "k", body: Array("new-bytes".utf8))
        let part = try await f.s3.getObject(bucket: f.bucket, key: "k", range: 0...2, versionID: old.versionID)
        #expect(String(decoding: part.body, as: UTF8.self) == "old")
        #expect(part.versionID == old.versionID)
    }

    @Test func copyKeepsOrReplacesMetadataAndSetsTheClass() async throws {
        let f = try await S3Fixture("copy")
        let body = noise(4096)
        try await f.s3.putObject(
            bucket: f.bucket, key: "src/a b+c.bin", body: body, contentType: "application/x-src", metadata: ["origin": "source"])
        let target = MotoServer.uniqueName("copytarget")
        try await f.s3.createBucket(target)

        let kept = try await f.s3.copyObject(
            sourceBucket: f.bucket, sourceKey: "src/a b+c.bin", bucket: target, key: "archive/a b+c.bin", storageClass: .standardIA)
        #expect(kept.etag.count > 2)
        #expect(try await f.s3.getObject(bucket: target, key: "archive/a b+c.bin") == body)
        let keptHead = try #require(try await f.s3.headObject(bucket: target, key: "archive/a b+c.bin"))
        #expect(keptHead.metadata["origin"] == "source")
        #expect(keptHead.contentType == "application/x-src")
        #expect(keptHead.storageClass == "STANDARD_IA")

        try await f.s3.copyObject(
            sourceBucket: f.bucket, sourceKey: "src/a b+c.bin", bucket: target, key: "archive/replaced",
            metadataDirective: .replace(contentType: "application/x-new", contentEncoding: nil, metadata: ["origin": "copy"]))
        let replaced = try #require(try await f.s3.headObject(bucket: target, key: "archive/replaced"))
        #expect(replaced.metadata["origin"] == "copy")
        #expect(replaced.contentType == "application/x-new")
        #expect(try await f.s3.getObject(bucket: target, key: "archive/replaced") == body)

        let missing = await #expect(throws: AWSError.self) {
            try await f.s3.copyObject(sourceBucket: f.bucket, sourceKey: "src/none", bucket: target, key: "x")
        }
        #expect(missing?.kind == .notFound)
        #expect(try await f.s3.headObject(bucket: target, key: "x") == nil)
    }

    @Test func copyOfAnOlderVersion() async throws {
        let f = try await S3Fixture("copyversion")
        try await f.s3.putBucketVersioning(bucket: f.bucket, status: .enabled)
        let old = try await f.s3.putObject(bucket: f.bucket, key: "doc", body: Array("first".utf8))
        try await f.s3.putObject(bucket: f.bucket, key: "doc", body: Array("second".utf8))
        let copied = try await f.s3.copyObject(sourceBucket: f.bucket, sourceKey: "doc", sourceVersionID: old.versionID, bucket: f.bucket, key: "doc-restored")
        #expect(copied.sourceVersionID == old.versionID)
        #expect(copied.versionID != nil)
        #expect(String(decoding: try await f.s3.getObject(bucket: f.bucket, key: "doc-restored"), as: UTF8.self) == "first")
    }

    @Test func multipartCopyCopiesPartsServerSide() async throws {
        let recorder = RecordingTransport(base: NIOHTTPTransport.shared())
        let f = try await S3Fixture("copymulti", transport: recorder)
        let body = noise(11 * 1024 * 1024 + 3)
        try await f.s3.putObject(bucket: f.bucket, key: "big source", body: body, contentType: "application/x-big", metadata: ["kind": "large"])
        let result = try await f.s3.copyObjectMultipart(
            sourceBucket: f.bucket, sourceKey: "big source", bucket: f.bucket, key: "big copy", storageClass: .glacierInstantRetrieval,
            partSize: 5 * 1024 * 1024, concurrency: 2)
        #expect(result.etag.hasSuffix("-3\""))
        #expect(try await f.s3.getObject(bucket: f.bucket, key: "big copy") == body)
        let head = try #require(try await f.s3.headObject(bucket: f.bucket, key: "big copy"))
        #expect(head.metadata["kind"] == "large")
        #expect(head.contentType == "application/x-big")
        #expect(head.storageClass == "GLACIER_IR")
        #expect(try await f.s3.listMultipartUploads(bucket: f.bucket).isEmpty)
        // Three part copies, each with its range and the source's ETag as a precondition; no body went up.
        let copies = recorder.requests.filter { $0.header("x-amz-copy-source-range") != nil }
        #expect(copies.count == 3)
        #expect(Set(copies.compactMap { $0.header("x-amz-copy-source-range") }) == [
            "bytes=0-5242879", "bytes=5242880-10485759", "bytes=10485760-11534338",
        ])
        #expect(copies.allSatisfy { $0.body.isEmpty && $0.header("x-amz-copy-source") == "\(f.bucket)/big%20source" })
        let sourceETag = try #require(try await f.s3.headObject(bucket: f.bucket, key: "big source")?.etag)
        #expect(copies.allSatisfy { $0.header("x-amz-copy-source-if-match") == sourceETag })

        // Too small a part size is refused before anything is sent.
        let small = await #expect(throws: AWSError.self) {
            try await f.s3.copyObjectMultipart(sourceBucket: f.bucket, sourceKey: "big source", bucket: f.bucket, key: "y", partSize: 1024)
        }
        #expect(small?.kind == .invalidRequest)
    }

    @Test func multipartCopyOfAMissingSourceIsNotFound() async throws {
        let f = try await S3Fixture("copymissing")
        let error = await #expect(throws: AWSError.self) {
            try await f.s3.copyObjectMultipart(sourceBucket: f.bucket, sourceKey: "nothing", bucket: f.bucket, key: "y", partSize: 5 * 1024 * 1024)
        }
        #expect(error?.kind == .notFound)
        #expect(error?.description.contains("no object 'nothing' in bucket '\(f.bucket)'") == true)
        #expect(try await f.s3.listMultipartUploads(bucket: f.bucket).isEmpty)
    }
}
