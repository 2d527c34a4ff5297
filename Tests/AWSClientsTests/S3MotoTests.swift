import AWSClients
import Foundation
import Testing
import TestSupport

/// A client and a fresh bucket on the shared moto server.
struct S3Fixture {
    let server: MotoServer
    let s3: S3Client
    let bucket: String

    init(_ prefix: String = "s3", transport: (any HTTPTransport)? = nil) async throws {
        server = try await MotoServer.shared()
        s3 = S3Client(settings: server.settings(), transport: transport ?? NIOHTTPTransport.shared(), retryPolicy: RetryPolicy(maxAttempts: 2))
        bucket = MotoServer.uniqueName(prefix)
        try await s3.createBucket(bucket)
    }
}

@Suite("S3 against moto")
struct S3MotoTests {
    static let awkwardKeys = [
        "plain.txt", "with space/and#hash+plus.json", "percent%20literal%.gz", "unicode/ünïcødé-日本語-🙂.bin",
        "a//double/slash", "query?and=equals&amp;", "tilde~star*(paren)'quote'!", "trailing-space ",
    ]

    @Test func putGetHeadRoundTripWithAwkwardKeys() async throws {
        let f = try await S3Fixture("roundtrip")
        for (i, key) in Self.awkwardKeys.enumerated() {
            let body = Array("body \(i) of \(key)".utf8)
            let put = try await f.s3.putObject(
                bucket: f.bucket, key: key, body: body, contentType: "application/x-test", metadata: ["origin": "archiver", "index": "\(i)"],
                contentEncoding: i == 0 ? "identity" : nil, serverSideEncryption: .aes256)
            #expect(put.etag != nil)
            #expect(try await f.s3.getObject(bucket: f.bucket, key: key) == body, "key \(key)")
            let head = try #require(try await f.s3.headObject(bucket: f.bucket, key: key))
            #expect(head.size == Int64(body.count))
            #expect(head.etag == put.etag)
            #expect(head.contentType == "application/x-test")
            #expect(head.metadata["origin"] == "archiver")
            #expect(head.metadata["index"] == "\(i)")
            #expect(head.lastModified != nil)
            if i == 0 { #expect(head.contentEncoding == "identity") }
        }
        let listed = try await f.s3.listObjectsV2(bucket: f.bucket)
        #expect(Set(listed.objects.map(\.key)) == Set(Self.awkwardKeys))
    }

    @Test func gzipArchivesComeBackAsStored() async throws {
        let recorder = RecordingTransport(base: NIOHTTPTransport.shared())
        let f = try await S3Fixture("gzip", transport: recorder)
        // A real gzip stream of "hello\n", stored as application/gzip: it must come back compressed, byte for byte.
        let gzip: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00, 0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00]
        try await f.s3.putObject(bucket: f.bucket, key: "x.json.gz", body: gzip, contentType: "application/gzip")
        #expect(try await f.s3.getObject(bucket: f.bucket, key: "x.json.gz") == gzip)
        let get = try #require(recorder.requests.first { $0.method == "GET" })
        #expect(get.url.query == "response-content-encoding=identity")
    }

    @Test func contentMD5IsSent() async throws {
        let recorder = RecordingTransport(base: NIOHTTPTransport.shared())
        let f = try await S3Fixture("md5", transport: recorder)
        try await f.s3.putObject(bucket: f.bucket, key: "hello.txt", body: Array("hello".utf8))
        let keys = (0..<3).map { "k\($0)" }
        _ = try await f.s3.deleteObjects(bucket: f.bucket, keys: keys)
        let put = try #require(recorder.requests.first { $0.method == "PUT" && $0.url.path.hasSuffix("/hello.txt") })
        #expect(put.header("Content-MD5") == "XUFAKrxLKna5cZ2REBfFkg==")
        #expect(put.header("x-amz-content-sha256") == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        let delete = try #require(recorder.requests.first { $0.method == "POST" && $0.url.query == "delete" })
        #expect(delete.header("Content-MD5") != nil)
    }

    @Test func missingObjectIsNotFound() async throws {
        let f = try await S3Fixture("missing")
        let error = await #expect(throws: AWSError.self) { try await f.s3.getObject(bucket: f.bucket, key: "nope/none.txt") }
        #expect(error?.kind == .notFound)
        #expect(error?.statusCode == 404)
        #expect(error?.description.contains("no object 'nope/none.txt' in bucket '\(f.bucket)'") == true)
        #expect(try await f.s3.headObject(bucket: f.bucket, key: "nope") == nil)
    }

    @Test func noSuchBucketMessage() async throws {
        let f = try await S3Fixture("nsb")
        let error = await #expect(throws: AWSError.self) {
            try await f.s3.putObject(bucket: "no-such-bucket-\(f.bucket)", key: "k", body: [1])
        }
        #expect(error?.kind == .noSuchBucket)
        #expect(error?.description.hasPrefix("S3 PutObject failed: NoSuchBucket: the bucket 'no-such-bucket-\(f.bucket)' does not exist (HTTP 404") == true)
        #expect(try await f.s3.bucketExists(f.bucket))
        #expect(try await f.s3.bucketExists("no-such-bucket-\(f.bucket)") == false)
    }

    @Test func listingPaginatesAndGroupsByDelimiter() async throws {
        let f = try await S3Fixture("list")
        var keys: [String] = []
        for day in 1...3 {
            for n in 0..<5 { keys.append("2024/0\(day)/obj \(n)+x.gz") }
        }
        keys.append("top-level.txt")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for key in keys { group.addTask { try await f.s3.putObject(bucket: f.bucket, key: key, body: Array(key.utf8)) } }
            try await group.waitForAll()
        }
        // Pages of 4.
        var seen: [String] = []
        var token: String?
        var pages = 0
        repeat {
            let page = try await f.s3.listObjectsV2(bucket: f.bucket, continuationToken: token, maxKeys: 4)
            #expect(page.objects.count <= 4)
            seen += page.objects.map(\.key)
            token = page.nextContinuationToken
            pages += 1
        } while token != nil
        #expect(pages == 4)
        #expect(seen == keys.sorted())
        // Delimiter.
        let top = try await f.s3.listObjectsV2(bucket: f.bucket, delimiter: "/")
        #expect(top.commonPrefixes == ["2024/"])
        #expect(top.objects.map(\.key) == ["top-level.txt"])
        let days = try await f.s3.listObjectsV2(bucket: f.bucket, prefix: "2024/", delimiter: "/")
        #expect(days.commonPrefixes == ["2024/01/", "2024/02/", "2024/03/"])
        // Start after, and sizes.
        let after = try await f.s3.listObjectsV2(bucket: f.bucket, prefix: "2024/02/", startAfter: "2024/02/obj 2+x.gz")
        #expect(after.objects.map(\.key) == ["2024/02/obj 3+x.gz", "2024/02/obj 4+x.gz"])
        #expect(after.objects.first?.size == Int64("2024/02/obj 3+x.gz".utf8.count))
        #expect(after.objects.first?.lastModified != nil)
        // The stream pages through everything.
        var streamed: [String] = []
        for try await object in f.s3.listAllObjects(bucket: f.bucket, prefix: "2024/", pageSize: 2) { streamed.append(object.key) }
        #expect(streamed == keys.filter { $0.hasPrefix("2024/") }.sorted())
    }

    @Test func deleteManyKeysInBatches() async throws {
        let f = try await S3Fixture("delete")
        let keys = (0..<1105).map { String(format: "batch/%05d item+#.txt", $0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<16 {
                let start = next
                next += 1
                group.addTask {
                    var i = start
                    while i < keys.count {
                        try await f.s3.putObject(bucket: f.bucket, key: keys[i], body: [UInt8(i & 0xff)])
                        i += 16
                    }
                }
            }
            try await group.waitForAll()
        }
        var listed = 0
        for try await _ in f.s3.listAllObjects(bucket: f.bucket) { listed += 1 }
        #expect(listed == 1105)
        let result = try await f.s3.deleteObjects(bucket: f.bucket, keys: keys + ["never-existed"])
        #expect(result.requested == 1106)
        #expect(result.errors.isEmpty)
        let after = try await f.s3.listObjectsV2(bucket: f.bucket)
        #expect(after.objects.isEmpty)
    }

    @Test func multipartUploadOfTwelveMiB() async throws {
        let f = try await S3Fixture("multipart")
        var body = [UInt8](repeating: 0, count: 12 * 1024 * 1024 + 17)
        var state: UInt32 = 2463534242
        for i in body.indices {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            body[i] = UInt8(truncatingIfNeeded: state)
        }
        let result = try await f.s3.putObjectMultipart(
            bucket: f.bucket, key: "big/multi part.bin", body: body, partSize: 5 * 1024 * 1024, contentType: "application/octet-stream",
            metadata: ["kind": "multipart"])
        #expect(result.etag?.hasSuffix("-3\"") == true)
        let back = try await f.s3.getObject(bucket: f.bucket, key: "big/multi part.bin")
        #expect(back.count == body.count)
        #expect(back == body)
        let head = try #require(try await f.s3.headObject(bucket: f.bucket, key: "big/multi part.bin"))
        #expect(head.metadata["kind"] == "multipart")
        #expect(try await f.s3.listMultipartUploads(bucket: f.bucket).isEmpty)
    }

    @Test func multipartFailureAborts() async throws {
        let failing = FailingTransport(base: NIOHTTPTransport.shared()) { request in
            guard request.method == "PUT", request.url.query?.contains("partNumber=2") == true else { return nil }
            return HTTPResponse(status: 400, body: s3ErrorXML("InvalidPart", "injected failure"))
        }
        let f = try await S3Fixture("abort", transport: failing)
        let body = [UInt8](repeating: 1, count: 11 * 1024 * 1024)
        let error = await #expect(throws: AWSError.self) {
            try await f.s3.putObjectMultipart(bucket: f.bucket, key: "aborted.bin", body: body, partSize: 5 * 1024 * 1024)
        }
        #expect(error?.code == "InvalidPart")
        #expect(error?.operation == "UploadPart")
        #expect(try await f.s3.listMultipartUploads(bucket: f.bucket).isEmpty)
        #expect(try await f.s3.headObject(bucket: f.bucket, key: "aborted.bin") == nil)
    }

    @Test func multipartRefusesSmallParts() async throws {
        let f = try await S3Fixture("smallparts")
        let error = await #expect(throws: AWSError.self) {
            try await f.s3.putObjectMultipart(bucket: f.bucket, key: "x", body: [1, 2, 3], partSize: 1024)
        }
        #expect(error?.kind == .invalidRequest)
    }

    @Test func lifecycleConfigurationPutGetDelete() async throws {
        let f = try await S3Fixture("lifecycle")
        #expect(try await f.s3.getBucketLifecycleConfiguration(bucket: f.bucket) == nil)
        let xml = #"<?xml version="1.0" encoding="UTF-8"?><LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
            + "<Rule><Expiration><Days>365</Days></Expiration><ID>archive-then-expire</ID><Filter><Prefix>archive/</Prefix></Filter>"
            + "<Status>Enabled</Status><Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition></Rule>"
            + "</LifecycleConfiguration>"
        try await f.s3.putBucketLifecycleConfiguration(bucket: f.bucket, xml: Array(xml.utf8))
        let back = String(decoding: try #require(try await f.s3.getBucketLifecycleConfiguration(bucket: f.bucket)), as: UTF8.self)
        #expect(back.contains("<LifecycleConfiguration"), "\(back)")
        #expect(back.contains("<ID>archive-then-expire</ID>"), "\(back)")
        #expect(back.contains("<Days>365</Days>"), "\(back)")
        try await f.s3.deleteBucketLifecycle(bucket: f.bucket)
        #expect(try await f.s3.getBucketLifecycleConfiguration(bucket: f.bucket) == nil)
    }
}
