import AWSClients
import Foundation
import Testing

@Suite("The HTTP transport against misbehaving servers")
struct HTTPTransportTests {
    let credentials = AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "secret")

    func s3(_ endpoint: URL, attempts: Int, sleeps: SleepRecorder, timeout: TimeInterval = 60, wholeRequest: TimeInterval = 600) -> S3Client {
        let http = AWSHTTPClient(
            credentials: credentials, region: "us-east-1",
            transport: NIOHTTPTransport.shared(.init(requestTimeout: timeout, resourceTimeout: wholeRequest)),
            retryPolicy: RetryPolicy(maxAttempts: attempts), sleep: sleeps.sleeper)
        return S3Client(http: http, endpoint: endpoint, addressingStyle: .path)
    }

    @Test func connectionRefusedIsRetriedThenReported() async throws {
        let sleeps = SleepRecorder()
        let endpoint = URL(string: "http://127.0.0.1:9")!  // discard port: refused on loopback
        let error = await #expect(throws: AWSError.self) { try await s3(endpoint, attempts: 3, sleeps: sleeps).getObject(bucket: "b", key: "k") }
        #expect(error?.kind == .transport)
        #expect(error?.attempts == 3)
        #expect(sleeps.sleeps.count == 2)
        #expect(error?.description.contains("127.0.0.1:9") == true)
        // Refused at once each time, not retried by the HTTP stack until its connect timeout (which would say "timed out").
        #expect(error?.description.contains("connection refused") == true, "\(String(describing: error))")
    }

    /// A GET from the scripted server's `bucket` path fails at the transport after both of its two attempts, saying
    /// `saying` when given.
    func expectTransportFailure(
        _ client: S3Client, bucket: String, saying: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) async {
        let error = await #expect(throws: AWSError.self, sourceLocation: sourceLocation) { try await client.getObject(bucket: bucket, key: "k") }
        #expect(error?.kind == .transport, sourceLocation: sourceLocation)
        #expect(error?.attempts == 2, sourceLocation: sourceLocation)
        if let saying {
            #expect(error?.description.contains(saying) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        }
    }

    @Test func shortBodyIsRetriedThenReportedAsCutShort() async throws {
        let server = try ScriptedHTTPServer()
        await expectTransportFailure(s3(server.endpoint, attempts: 2, sleeps: SleepRecorder()), bucket: "short", saying: "cut short")
    }

    @Test func aStalledAnswerTimesOutAndIsRetried() async throws {
        let server = try ScriptedHTTPServer()
        // The server answers after 5 s: a request timeout of 0.5 s that is not kept would end in its "ok".
        await expectTransportFailure(s3(server.endpoint, attempts: 2, sleeps: SleepRecorder(), timeout: 0.5), bucket: "stall", saying: "timed out")
    }

    @Test func aBodyThatTricklesPastTheWholeRequestsTimeoutTimesOut() async throws {
        let server = try ScriptedHTTPServer()
        // A byte every 0.2 s never leaves the connection idle for the 1 s read timeout; the body takes 4 s in all, so
        // only a bound on the whole request (1.5 s) that covers the body ends it.
        await expectTransportFailure(
            s3(server.endpoint, attempts: 2, sleeps: SleepRecorder(), timeout: 1, wholeRequest: 1.5), bucket: "trickle", saying: "timed out")
    }

    @Test func aResetConnectionIsRetriedThenReported() async throws {
        let server = try ScriptedHTTPServer()
        await expectTransportFailure(s3(server.endpoint, attempts: 2, sleeps: SleepRecorder()), bucket: "reset")
    }

    @Test func aGzipEncodedObjectComesBackAsStored() async throws {
        let server = try ScriptedHTTPServer()
        let bytes = try await s3(server.endpoint, attempts: 1, sleeps: SleepRecorder()).getObject(bucket: "gzip", key: "k")
        #expect(Array(bytes.prefix(2)) == [0x1f, 0x8b])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("transport-\(UUID().uuidString).gz")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(bytes).write(to: file)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-dc", file.path]
        let out = Pipe()
        gzip.standardOutput = out
        try gzip.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        gzip.waitUntilExit()
        #expect(text == "stored compressed")
    }

    @Test func aTransportOfItsOwnAnswersAndIsReleasedWithoutWaiting() async throws {
        let server = try ScriptedHTTPServer()
        for _ in 0..<3 {
            let transport = NIOHTTPTransport(configuration: .init(requestTimeout: 5))
            let response = try await transport.send(HTTPRequest(method: "GET", url: server.endpoint.appendingPathComponent("fine")))
            #expect(response.status == 200)
            #expect(response.body == Array("ok".utf8))
        }
    }

    @Test func redirectsAreNotFollowed() async throws {
        let server = try ScriptedHTTPServer()
        let error = await #expect(throws: AWSError.self) {
            try await s3(server.endpoint, attempts: 2, sleeps: SleepRecorder()).getObject(bucket: "redirect", key: "k")
        }
        #expect(error?.statusCode == 307)
        #expect(error?.description.contains("redirected to http://127.0.0.1:9/elsewhere") == true)
        #expect(error?.attempts == 1)
        let ok = try await s3(server.endpoint, attempts: 1, sleeps: SleepRecorder()).getObject(bucket: "fine", key: "k")
        #expect(ok == Array("ok".utf8))
    }
}
