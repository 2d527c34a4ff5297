import AWSClients
import Foundation
import Testing

@Suite("HTTP layer and retries")
struct RetryTests {
    let credentials = AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    func client(_ transport: TransportDouble, sleeps: SleepRecorder, attempts: Int = 5) -> S3Client {
        let http = AWSHTTPClient(
            credentials: credentials, region: "us-east-1", transport: transport, retryPolicy: RetryPolicy(maxAttempts: attempts),
            sleep: sleeps.sleeper)
        return S3Client(http: http, endpoint: URL(string: "http://127.0.0.1:9")!, addressingStyle: .path)
    }

    @Test func slowDownThenSuccess() async throws {
        let transport = TransportDouble { _, n in
            n < 3 ? HTTPResponse(status: 503, body: s3ErrorXML("SlowDown", "Please reduce your request rate.")) : HTTPResponse(status: 200, headers: ["ETag": "\"abc\""])
        }
        let sleeps = SleepRecorder()
        let result = try await client(transport, sleeps: sleeps).putObject(bucket: "b", key: "k", body: Array("hello".utf8))
        #expect(result.etag == "\"abc\"")
        #expect(transport.requests.count == 3)
        #expect(sleeps.sleeps.count == 2)
        let policy = RetryPolicy()
        for (i, d) in sleeps.sleeps.enumerated() { #expect(d <= policy.backoffCeiling(afterAttempt: i + 1)) }
        // Every attempt is signed and carries the body's MD5.
        for request in transport.requests {
            #expect(request.header("Authorization")?.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIDTEST/") == true)
            #expect(request.header("Content-MD5") == "XUFAKrxLKna5cZ2REBfFkg==")
            #expect(request.url.absoluteString == "http://127.0.0.1:9/b/k")
        }
    }

    @Test func clientErrorFailsAtOnce() async throws {
        let transport = TransportDouble { _, _ in HTTPResponse(status: 404, body: s3ErrorXML("NoSuchBucket", "The specified bucket does not exist")) }
        let sleeps = SleepRecorder()
        let error = await #expect(throws: AWSError.self) {
            try await client(transport, sleeps: sleeps).putObject(bucket: "x", key: "k", body: [1])
        }
        #expect(transport.requests.count == 1)
        #expect(sleeps.sleeps.isEmpty)
        #expect(error?.attempts == 1)
        #expect(error?.kind == .noSuchBucket)
        #expect(error?.requestID == "req-1")
        #expect(error?.description == "S3 PutObject failed: NoSuchBucket: the bucket 'x' does not exist (HTTP 404, request ID req-1)")
    }

    @Test func attemptsAreBounded() async throws {
        let transport = TransportDouble { _, _ in HTTPResponse(status: 500, body: s3ErrorXML("InternalError", "We encountered an internal error.")) }
        let sleeps = SleepRecorder()
        let error = await #expect(throws: AWSError.self) {
            try await client(transport, sleeps: sleeps, attempts: 4).getObject(bucket: "b", key: "k")
        }
        #expect(transport.requests.count == 4)
        #expect(sleeps.sleeps.count == 3)
        #expect(error?.attempts == 4)
        #expect(error?.description.hasSuffix("after 4 attempts") == true)
    }

    @Test func throttlingCodesAndConnectionErrorsAreRetried() async throws {
        let transport = TransportDouble { _, n in
            switch n {
            case 1: throw HTTPTransportError(.connection, "could not connect")
            case 2: throw HTTPTransportError(.timeout, "timed out")
            case 3: return HTTPResponse(status: 400, body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow"}"#.utf8))
            case 4: return HTTPResponse(status: 429, body: [])
            default: return HTTPResponse(status: 200, body: Array(#"{"Table":{"TableName":"t","KeySchema":[{"AttributeName":"id","KeyType":"HASH"}]}}"#.utf8))
            }
        }
        let sleeps = SleepRecorder()
        let http = AWSHTTPClient(credentials: credentials, region: "us-east-1", transport: transport, sleep: sleeps.sleeper)
        let table = try await DynamoDBClient(http: http, endpoint: URL(string: "http://127.0.0.1:9")!).describeTable("t")
        #expect(table.keyAttributeNames == ["id"])
        #expect(transport.requests.count == 5)
        #expect(sleeps.sleeps.count == 4)
        let first = transport.requests[0]
        #expect(first.header("X-Amz-Target") == "DynamoDB_20120810.DescribeTable")
        #expect(first.header("Content-Type") == "application/x-amz-json-1.0")
        #expect(first.header("Authorization")?.contains("/us-east-1/dynamodb/aws4_request") == true)
    }

    @Test func truncatedBodyIsRetried() async throws {
        let transport = TransportDouble { _, n in
            n == 1 ? HTTPResponse(status: 200, headers: ["Content-Length": "10"], body: [1, 2, 3])
                : HTTPResponse(status: 200, headers: ["Content-Length": "3"], body: [1, 2, 3])
        }
        let sleeps = SleepRecorder()
        let body = try await client(transport, sleeps: sleeps).getObject(bucket: "b", key: "k")
        #expect(body == [1, 2, 3])
        #expect(transport.requests.count == 2)
    }

    @Test func conditionalCheckFailedIsNotRetriedAndIsDistinguishable() async throws {
        let transport = TransportDouble { _, _ in
            HTTPResponse(status: 400, body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#.utf8))
        }
        let http = AWSHTTPClient(credentials: credentials, region: "us-east-1", transport: transport, sleep: SleepRecorder().sleeper)
        let error = await #expect(throws: AWSError.self) {
            try await DynamoDBClient(http: http, endpoint: URL(string: "http://127.0.0.1:9")!)
                .putItem(table: "t", itemJSON: Array(#"{"id":{"S":"a"}}"#.utf8), condition: .attributeNotExists(["id"]))
        }
        #expect(error?.kind == .conditionalCheckFailed)
        #expect(error?.attempts == 1)
        #expect(transport.requests.count == 1)
        let sent = String(decoding: transport.requests[0].body, as: UTF8.self)
        #expect(sent == ##"{"TableName":"t","Item":{"id":{"S":"a"}},"ConditionExpression":"attribute_not_exists(#k0)","ExpressionAttributeNames":{"#k0":"id"}}"##)
    }

    @Test func backoffStaysWithinCap() {
        let policy = RetryPolicy(maxAttempts: 50, baseDelay: .milliseconds(100), maxDelay: .seconds(20))
        #expect(policy.backoffCeiling(afterAttempt: 1) == .milliseconds(100))
        #expect(policy.backoffCeiling(afterAttempt: 2) == .milliseconds(200))
        #expect(policy.backoffCeiling(afterAttempt: 5) == .milliseconds(1600))
        #expect(policy.backoffCeiling(afterAttempt: 9) == .seconds(20))
        #expect(policy.backoffCeiling(afterAttempt: 1000) == .seconds(20))
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...60 {
            for _ in 0..<20 {
                let delay = policy.delay(afterAttempt: attempt, using: &generator)
                #expect(delay >= .zero && delay <= .seconds(20))
                #expect(delay <= policy.backoffCeiling(afterAttempt: attempt))
            }
        }
    }

    @Test func retryClassification() {
        let policy = RetryPolicy.standard
        #expect(policy.isRetryable(status: 503, code: "SlowDown"))
        #expect(policy.isRetryable(status: 500, code: nil))
        #expect(!policy.isRetryable(status: 501, code: nil))
        #expect(policy.isRetryable(status: 429, code: nil))
        #expect(policy.isRetryable(status: 400, code: "ThrottlingException"))
        #expect(policy.isRetryable(status: 400, code: "RequestLimitExceeded"))
        #expect(policy.isRetryable(status: 400, code: "TooManyRequestsException"))
        #expect(!policy.isRetryable(status: 400, code: "ValidationException"))
        #expect(!policy.isRetryable(status: 403, code: "SignatureDoesNotMatch"))
        #expect(!policy.isRetryable(status: 404, code: "NoSuchKey"))
    }

    @Test func errorMessagesNeverCarryTheSecret() async throws {
        let secret = credentials.secretAccessKey
        let transport = TransportDouble { _, _ in
            HTTPResponse(status: 403, body: s3ErrorXML("SignatureDoesNotMatch", "The request signature we calculated does not match. Key \(secret)"))
        }
        let error = await #expect(throws: AWSError.self) {
            try await client(transport, sleeps: SleepRecorder()).getObject(bucket: "b", key: "k")
        }
        #expect(error?.kind == .invalidCredentials)
        #expect(error?.description.contains("SignatureDoesNotMatch: the request signature does not match; check AWS_SECRET_ACCESS_KEY") == true)
        #expect(error?.description.contains(secret) == false)
        #expect(error?.message?.contains(secret) == false)
    }

    @Test func errorHiddenInASuccessfulCompleteIsAnError() async throws {
        let transport = TransportDouble { _, n in
            n == 1 ? HTTPResponse(status: 200, body: s3ErrorXML("InternalError", "try again"))
                : HTTPResponse(status: 200, body: Array("<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>".utf8))
        }
        let result = try await client(transport, sleeps: SleepRecorder())
            .completeMultipartUpload(bucket: "b", key: "k", uploadID: "u", parts: [S3CompletedPart(partNumber: 1, etag: "\"e\"")])
        #expect(result.etag == "\"e-2\"")
        #expect(transport.requests.count == 2)
    }

    @Test func streamIteratorErrorsAreDistinguishableAndNotRetried() async throws {
        for (code, kind) in [("ExpiredIteratorException", AWSError.Kind.expiredIterator), ("TrimmedDataAccessException", .trimmedDataAccess)] {
            let transport = TransportDouble { _, _ in
                HTTPResponse(status: 400, body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#\#(code)","message":"Iterator expired"}"#.utf8))
            }
            let http = AWSHTTPClient(credentials: credentials, region: "eu-west-1", transport: transport, sleep: SleepRecorder().sleeper)
            let streams = DynamoDBStreamsClient(http: http, endpoint: URL(string: "https://streams.dynamodb.eu-west-1.amazonaws.com")!)
            let error = await #expect(throws: AWSError.self) { try await streams.getRecords(iterator: "it", limit: 10) }
            #expect(error?.kind == kind)
            #expect(error?.code == code)
            #expect(transport.requests.count == 1)
            let request = try #require(transport.requests.first)
            #expect(request.header("X-Amz-Target") == "DynamoDBStreams_20120810.GetRecords")
            #expect(request.header("Authorization")?.contains("/eu-west-1/dynamodb/aws4_request") == true)
            #expect(request.url.absoluteString == "https://streams.dynamodb.eu-west-1.amazonaws.com/")
        }
    }

    @Test func getRecordsDecodesOnlyTheNextIterator() async throws {
        let body = #"{"Records":[{"eventName":"REMOVE","dynamodb":{"OldImage":{"n":{"N":"123456789012345678901234567890.12345678"}}}}],"NextShardIterator":"next\/it"}"#
        let transport = TransportDouble { _, _ in HTTPResponse(status: 200, body: Array(body.utf8)) }
        let http = AWSHTTPClient(credentials: credentials, region: "us-east-1", transport: transport)
        let streams = DynamoDBStreamsClient(http: http, endpoint: URL(string: "http://127.0.0.1:9")!)
        let result = try await streams.getRecords(iterator: "it")
        #expect(result.body == Array(body.utf8))
        #expect(result.nextShardIterator == "next/it")
        let closed = TransportDouble { _, _ in HTTPResponse(status: 200, body: Array(#"{"Records":[]}"#.utf8)) }
        let closedResult = try await DynamoDBStreamsClient(
            http: AWSHTTPClient(credentials: credentials, region: "us-east-1", transport: closed), endpoint: URL(string: "http://127.0.0.1:9")!
        ).getRecords(iterator: "it")
        #expect(closedResult.nextShardIterator == nil)
    }

    @Test func wrongRegionSaysWhichRegion() async throws {
        let transport = TransportDouble { _, _ in
            HTTPResponse(status: 301, headers: ["x-amz-bucket-region": "eu-central-1"], body: s3ErrorXML("PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint."))
        }
        let error = await #expect(throws: AWSError.self) { try await client(transport, sleeps: SleepRecorder()).getObject(bucket: "b", key: "k") }
        #expect(error?.description.contains("PermanentRedirect: the bucket is in region eu-central-1, not us-east-1; set AWS_REGION=eu-central-1") == true)
        #expect(error?.attempts == 1)
    }

    @Test func decodedGzipBodyIsRefusedNotReturned() async throws {
        let transport = TransportDouble { _, _ in
            HTTPResponse(status: 200, headers: ["Content-Encoding": "gzip", "Content-Length": "26"], body: Array("hello\n".utf8))
        }
        let error = await #expect(throws: AWSError.self) {
            try await client(transport, sleeps: SleepRecorder()).getObject(bucket: "b", key: "x.gz")
        }
        #expect(error?.kind == .invalidResponse)
        #expect(error?.description.contains("Content-Encoding 'gzip'") == true)
    }

    @Test func virtualHostedAddressingAndKeyEncoding() async throws {
        let transport = TransportDouble { _, _ in HTTPResponse(status: 200, headers: ["ETag": "\"e\""]) }
        let http = AWSHTTPClient(credentials: credentials, region: "eu-west-1", transport: transport)
        let s3 = S3Client(http: http, endpoint: URL(string: "https://s3.eu-west-1.amazonaws.com")!, addressingStyle: .virtual)
        try await s3.putObject(bucket: "my-bucket", key: "a b/c+d#e%f/ü.gz", body: [1])
        try await s3.putObject(bucket: "dotted.bucket", key: "k", body: [1])
        let urls = transport.requests.map(\.url)
        #expect(urls[0].absoluteString == "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd%23e%25f/%C3%BC.gz")
        #expect(urls[0].path(percentEncoded: true) == "/a%20b/c%2Bd%23e%25f/%C3%BC.gz")
        #expect(urls[1].absoluteString == "https://s3.eu-west-1.amazonaws.com/dotted.bucket/k")
        let local = S3Client(http: http, endpoint: URL(string: "http://127.0.0.1:4566")!, addressingStyle: .virtual)
        try await local.putObject(bucket: "my-bucket", key: "k", body: [1])
        #expect(transport.requests.last?.url.absoluteString == "http://127.0.0.1:4566/my-bucket/k")
        let dotError = await #expect(throws: AWSError.self) { try await s3.putObject(bucket: "b", key: "a/../b", body: []) }
        #expect(dotError?.kind == .invalidRequest)
    }
}
