import AWSClients
import Crypto
import Foundation
import Testing
import TestSupport

/// The Content-MD5 S3 expects for a body.
func md5Base64(_ body: [UInt8]) -> String { Data(Insecure.MD5.hash(data: body)).base64EncodedString() }

/// All keys (current objects) of a bucket.
func listedKeys(_ s3: S3Client, _ bucket: String, prefix: String? = nil) async throws -> [String] {
    var keys: [String] = []
    for try await object in s3.listAllObjects(bucket: bucket, prefix: prefix) { keys.append(object.key) }
    return keys
}

/// Every version and delete marker of a bucket.
func listedVersions(_ s3: S3Client, _ bucket: String, prefix: String? = nil, pageSize: Int? = nil) async throws -> [S3ObjectVersion] {
    var versions: [S3ObjectVersion] = []
    for try await version in s3.listAllObjectVersions(bucket: bucket, prefix: prefix, pageSize: pageSize) { versions.append(version) }
    return versions
}

@Suite("S3 DeleteObjects")
struct S3DeleteObjectsTests {
    @Test func versionsAndDeleteMarkersAreReportedPerKey() async throws {
        let recorder = RecordingTransport(base: NIOHTTPTransport.shared())
        let f = try await S3Fixture("delversions", transport: recorder)
        try await f.s3.putBucketVersioning(bucket: f.bucket, status: .enabled)
        let first = try await f.s3.putObject(bucket: f.bucket, key: "a/one", body: [1])
        let second = try await f.s3.putObject(bucket: f.bucket, key: "a/one", body: [2])
        try await f.s3.putObject(bucket: f.bucket, key: "a/two", body: [3])
        let firstVersion = try #require(first.versionID)
        let secondVersion = try #require(second.versionID)

        // Not quiet: one version by ID, and a key without version (a delete marker in a versioned bucket).
        let result = try await f.s3.deleteObjects(
            bucket: f.bucket, objects: [S3ObjectIdentifier(key: "a/one", versionID: firstVersion), S3ObjectIdentifier(key: "a/two")], quiet: false)
        #expect(result.requested == 2)
        #expect(result.errors.isEmpty)
        #expect(result.requestIDs.count == 1)
        let byKey = Dictionary(uniqueKeysWithValues: result.deleted.map { ($0.key, $0) })
        #expect(byKey["a/one"]?.versionID == firstVersion)
        #expect(byKey["a/one"]?.deleteMarker == false)
        #expect(byKey["a/two"]?.deleteMarker == true)
        let marker = try #require(byKey["a/two"]?.deleteMarkerVersionID)

        let versions = try await listedVersions(f.s3, f.bucket)
        #expect(!versions.contains { $0.versionID == firstVersion })
        #expect(versions.contains { $0.versionID == secondVersion && !$0.isDeleteMarker })
        #expect(versions.contains { $0.key == "a/two" && $0.isDeleteMarker && $0.versionID == marker && $0.isLatest })
        #expect(try await listedKeys(f.s3, f.bucket) == ["a/one"])

        // Everything, by version: the bucket is empty, versions and markers included.
        let all = versions.map(\.identifier)
        let cleared = try await f.s3.deleteObjects(bucket: f.bucket, objects: all)
        #expect(cleared.errors.isEmpty)
        #expect(try await listedVersions(f.s3, f.bucket).isEmpty)

        // Every DeleteObjects request carried the MD5 of its own body.
        let posts = recorder.requests.filter { $0.method == "POST" && $0.url.query == "delete" }
        #expect(posts.count == 2)
        for post in posts { #expect(post.header("Content-MD5") == md5Base64(post.body)) }
        #expect(String(decoding: posts[0].body, as: UTF8.self).contains("<Quiet>false</Quiet>"))
        #expect(String(decoding: posts[1].body, as: UTF8.self).contains("<Quiet>true</Quiet>"))
    }

    @Test func lockedVersionFailsAloneAndIsNamedForRetry() async throws {
        let f = try await S3Fixture("dellock")
        // A bucket with object lock, through the raw request API (test setup only).
        let bucket = MotoServer.uniqueName("locked")
        _ = try await f.s3.http.send(
            AWSRequest(
                service: .s3, operation: "CreateBucket", method: "PUT", endpoint: f.server.endpoint, path: "/\(bucket)",
                headers: [("x-amz-bucket-object-lock-enabled", "true")]))
        let retain = "2099-01-01T00:00:00Z"
        let lockedBody: [UInt8] = [9, 9]
        let locked = try await f.s3.http.send(
            AWSRequest(
                service: .s3, operation: "PutObject", method: "PUT", endpoint: f.server.endpoint, path: "/\(bucket)/keep/locked",
                headers: [
                    ("Content-MD5", md5Base64(lockedBody)), ("x-amz-object-lock-mode", "GOVERNANCE"),
                    ("x-amz-object-lock-retain-until-date", retain),
                ], body: lockedBody))
        let lockedVersion = try #require(locked.header("x-amz-version-id"))
        let free = try await f.s3.putObject(bucket: bucket, key: "keep/free", body: [1])
        let freeVersion = try #require(free.versionID)

        let result = try await f.s3.deleteObjectBatch(
            bucket: bucket,
            objects: [S3ObjectIdentifier(key: "keep/locked", versionID: lockedVersion), S3ObjectIdentifier(key: "keep/free", versionID: freeVersion)],
            quiet: false)
        #expect(result.deleted.map(\.key) == ["keep/free"])
        #expect(result.errors.count == 1)
        let error = try #require(result.errors.first)
        #expect(error.key == "keep/locked")
        #expect(error.code == "AccessDenied")
        #expect(!error.message.isEmpty)
        #expect(error.requestID != nil && error.requestID == result.requestIDs.first)
        #expect(result.failedObjects.map(\.key) == ["keep/locked"])
        // The locked version is still there; the other is gone.
        let versions = try await listedVersions(f.s3, bucket)
        #expect(versions.map(\.versionID) == [lockedVersion])
    }

    @Test func batchLimitsAreEnforcedBeforeSending() async throws {
        let transport = TransportDouble { _, _ in HTTPResponse(status: 500) }
        let s3 = scriptedS3(transport)
        let tooMany = (0...1000).map { S3ObjectIdentifier(key: "k\($0)") }
        let over = await #expect(throws: AWSError.self) { try await s3.deleteObjectBatch(bucket: "b", objects: tooMany) }
        #expect(over?.kind == .invalidRequest)
        #expect(over?.description.contains("1 to 1000 keys, not 1001") == true)
        let none = await #expect(throws: AWSError.self) { try await s3.deleteObjectBatch(bucket: "b", objects: []) }
        #expect(none?.kind == .invalidRequest)
        let empty = await #expect(throws: AWSError.self) {
            try await s3.deleteObjects(bucket: "b", objects: [S3ObjectIdentifier(key: "ok"), S3ObjectIdentifier(key: "")])
        }
        #expect(empty?.description.contains("key 2 of the batch is empty") == true)
        #expect(transport.requests.isEmpty)
    }

    @Test func manyKeysGoInCallsOfAThousandWithTheirRequestIDs() async throws {
        let transport = TransportDouble { _, n in
            HTTPResponse(
                status: 200, headers: ["x-amz-request-id": "req-\(n)"],
                body: Array(#"<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>"#.utf8))
        }
        let s3 = scriptedS3(transport)
        let keys = (0..<2345).map { "k/\($0)" }
        let result = try await s3.deleteObjects(bucket: "b", keys: keys)
        #expect(result.requested == 2345)
        #expect(result.requestIDs == ["req-1", "req-2", "req-3"])
        let counts = transport.requests.map { String(decoding: $0.body, as: UTF8.self).components(separatedBy: "<Object>").count - 1 }
        #expect(counts == [1000, 1000, 345])
        for request in transport.requests {
            #expect(request.header("Content-MD5") == md5Base64(request.body))
            #expect(String(decoding: request.body, as: UTF8.self).contains("<Quiet>true</Quiet>"))
        }
    }

    /// S3 may refuse single keys (e.g. `InternalError` or `SlowDown` per key); the caller sends only those again.
    @Test func perKeyErrorsCarryVersionsAndOnlyFailedKeysAreResent() async throws {
        let transport = TransportDouble { request, n in
            let sent = String(decoding: request.body, as: UTF8.self)
            if n == 1 {
                #expect(sent.contains("<Key>x/1</Key><VersionId>v1</VersionId>"))
                return HTTPResponse(
                    status: 200, headers: ["x-amz-request-id": "first"],
                    body: Array(
                        """
                        <?xml version="1.0" encoding="UTF-8"?>
                        <DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                        <Deleted><Key>x/0</Key></Deleted>
                        <Error><Key>x/1</Key><VersionId>v1</VersionId><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>
                        <Deleted><Key>x/2</Key><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>dm2</DeleteMarkerVersionId></Deleted>
                        <Error><Key>x/3 &amp; more</Key><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>
                        </DeleteResult>
                        """.utf8))
            }
            #expect(!sent.contains("<Key>x/0</Key>") && !sent.contains("<Key>x/2</Key>"))
            return HTTPResponse(
                status: 200, headers: ["x-amz-request-id": "second"],
                body: Array(#"<?xml version="1.0" encoding="UTF-8"?><DeleteResult><Deleted><Key>x/1</Key><VersionId>v1</VersionId></Deleted><Deleted><Key>x/3 &amp; more</Key></Deleted></DeleteResult>"#.utf8))
        }
        let s3 = scriptedS3(transport)
        let objects = [
            S3ObjectIdentifier(key: "x/0"), S3ObjectIdentifier(key: "x/1", versionID: "v1"), S3ObjectIdentifier(key: "x/2"),
            S3ObjectIdentifier(key: "x/3 & more"),
        ]
        let first = try await s3.deleteObjectBatch(bucket: "b", objects: objects, quiet: false)
        #expect(first.deleted.map(\.key) == ["x/0", "x/2"])
        #expect(first.deleted[1].deleteMarker && first.deleted[1].deleteMarkerVersionID == "dm2")
        #expect(first.errors.map(\.code) == ["InternalError", "SlowDown"])
        #expect(first.errors.allSatisfy { $0.requestID == "first" })
        #expect(first.errors[0].description == "x/1 (version v1): InternalError: We encountered an internal error. Please try again.")
        #expect(first.failedObjects == [S3ObjectIdentifier(key: "x/1", versionID: "v1"), S3ObjectIdentifier(key: "x/3 & more")])

        let second = try await s3.deleteObjectBatch(bucket: "b", objects: first.failedObjects, quiet: false)
        #expect(second.errors.isEmpty)
        #expect(second.deleted.map(\.key) == ["x/1", "x/3 & more"])
        #expect(transport.requests.count == 2)
    }

    /// A whole-call failure (503 SlowDown) is retried by the HTTP layer with the same body and MD5.
    @Test func slowDownIsRetriedWithTheSameBody() async throws {
        let transport = TransportDouble { _, n in
            n < 3
                ? HTTPResponse(status: 503, body: s3ErrorXML("SlowDown", "Please reduce your request rate."))
                : HTTPResponse(status: 200, headers: ["x-amz-request-id": "ok"], body: Array("<DeleteResult/>".utf8))
        }
        let sleeps = SleepRecorder()
        let s3 = scriptedS3(transport, sleeps: sleeps)
        let result = try await s3.deleteObjects(bucket: "b", keys: ["p/1", "p/2"])
        #expect(result.errors.isEmpty)
        #expect(result.requestIDs == ["ok"])
        #expect(transport.requests.count == 3)
        #expect(sleeps.sleeps.count == 2)
        #expect(Set(transport.requests.map(\.body)).count == 1)
        #expect(Set(transport.requests.compactMap { $0.header("Content-MD5") }) == [md5Base64(transport.requests[0].body)])
    }
}

/// An S3 client over a scripted transport, without waiting between retries.
func scriptedS3(_ transport: TransportDouble, sleeps: SleepRecorder = SleepRecorder(), attempts: Int = 5) -> S3Client {
    let http = AWSHTTPClient(
        credentials: AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "secret-for-tests"), region: "us-east-1", transport: transport,
        retryPolicy: RetryPolicy(maxAttempts: attempts), sleep: sleeps.sleeper)
    return S3Client(http: http, endpoint: URL(string: "http://127.0.0.1:9")!, addressingStyle: .path)
}
