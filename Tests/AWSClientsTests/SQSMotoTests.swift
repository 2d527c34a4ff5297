import AWSClients
import Foundation
import Testing
import TestSupport

/// An SQS client and a fresh queue on the shared moto server.
struct SQSFixture {
    let server: MotoServer
    let sqs: SQSClient
    let queueName: String
    let queueURL: String

    init(_ prefix: String, transport: (any HTTPTransport)? = nil) async throws {
        server = try await MotoServer.shared()
        sqs = SQSClient(settings: server.settings(), transport: transport ?? NIOHTTPTransport.shared(), retryPolicy: RetryPolicy(maxAttempts: 2))
        queueName = MotoServer.uniqueName(prefix)
        queueURL = try await sqs.createQueue(name: queueName, attributes: ["VisibilityTimeout": "30"])
    }

    /// Receives until `count` messages have arrived (or 5 tries passed).
    func receive(_ count: Int, visibilityTimeout: Int? = nil) async throws -> [SQSMessage] {
        var messages: [SQSMessage] = []
        for _ in 0..<5 where messages.count < count {
            messages += try await sqs.receiveMessages(
                queueURL: queueURL, maxMessages: min(10, count - messages.count), waitTimeSeconds: 1, visibilityTimeout: visibilityTimeout,
                systemAttributeNames: ["All"], messageAttributeNames: ["All"])
        }
        return messages
    }
}

@Suite("SQS against moto")
struct SQSMotoTests {
    @Test func queuesAreFoundByNameAndMissingOnesAreNamed() async throws {
        let f = try await SQSFixture("queues")
        #expect(try await f.sqs.getQueueURL(name: f.queueName) == f.queueURL)
        let attributes = try await f.sqs.getQueueAttributes(queueURL: f.queueURL)
        #expect(attributes["QueueArn"]?.hasSuffix(":\(f.queueName)") == true)
        #expect(attributes["VisibilityTimeout"] == "30")
        let missing = await #expect(throws: AWSError.self) { try await f.sqs.getQueueURL(name: f.queueName + "-none") }
        #expect(missing?.kind == .queueDoesNotExist)
        #expect(missing?.description.contains("the queue '\(f.queueName)-none' does not exist") == true)
        try await f.sqs.deleteQueue(queueURL: f.queueURL)
        let deleted = await #expect(throws: AWSError.self) { try await f.sqs.getQueueURL(name: f.queueName) }
        #expect(deleted?.kind == .queueDoesNotExist)
    }

    @Test func batchSendReportsEachEntryAndMessagesRoundTrip() async throws {
        let f = try await SQSFixture("sendbatch")
        let bodies = (0..<9).map { #"{"n":\#($0),"text":"é \"quoted\" ✓"}"# }
        var entries = bodies.enumerated().map { SQSSendEntry(id: "m\($0.offset)", body: $0.element, attributes: ["kind": .string("test"), "n": .number("\($0.offset)")]) }
        // SQS refuses a delay over 900 s for this entry alone.
        entries.append(SQSSendEntry(id: "too-late", body: "late", delaySeconds: 1800))
        let sent = try await f.sqs.sendMessageBatch(queueURL: f.queueURL, entries: entries)
        #expect(sent.successful.map(\.id).sorted() == (0..<9).map { "m\($0)" }.sorted())
        #expect(Set(sent.successful.map(\.messageID)).count == 9)
        #expect(sent.failed.count == 1)
        let failure = try #require(sent.failed.first)
        #expect(failure.id == "too-late")
        #expect(failure.code == "InvalidParameterValue")
        #expect(failure.senderFault)
        #expect(sent.requestID != nil)

        let received = try await f.receive(9)
        #expect(Set(received.map(\.body)) == Set(bodies))
        #expect(received.allSatisfy { $0.receiveCount == 1 })
        #expect(received.allSatisfy { $0.attributes["kind"] == .string("test") })
        #expect(received.allSatisfy { $0.systemAttributes["SentTimestamp"] != nil })

        // Delete all but one, plus one unknown receipt handle, which fails alone.
        var deletes = received.dropLast().enumerated().map { SQSDeleteEntry(id: "d\($0.offset)", receiptHandle: $0.element.receiptHandle) }
        deletes.append(SQSDeleteEntry(id: "bogus", receiptHandle: "not-a-receipt-handle"))
        let deleted = try await f.sqs.deleteMessageBatch(queueURL: f.queueURL, entries: deletes)
        #expect(deleted.successful.count == 8)
        #expect(deleted.failed.map(\.id) == ["bogus"])
        #expect(deleted.failed.first?.code == "ReceiptHandleIsInvalid")
        #expect(deleted.failed.first?.senderFault == true)

        // The one kept comes back once visible again, seen twice; then the queue is empty.
        let kept = try #require(received.last)
        try await f.sqs.changeMessageVisibility(queueURL: f.queueURL, receiptHandle: kept.receiptHandle, visibilityTimeout: 0)
        let again = try await f.receive(1)
        #expect(again.map(\.messageID) == [kept.messageID])
        #expect(again.first?.receiveCount == 2)
        let last = try await f.sqs.deleteMessageBatch(queueURL: f.queueURL, entries: [SQSDeleteEntry(id: "last", receiptHandle: try #require(again.first?.receiptHandle))])
        #expect(last.successful == ["last"])
        #expect(try await f.sqs.receiveMessages(queueURL: f.queueURL, maxMessages: 10, waitTimeSeconds: 1).isEmpty)
    }

    @Test func visibilityTimeoutHidesAReceivedMessage() async throws {
        let f = try await SQSFixture("visibility")
        _ = try await f.sqs.sendMessageBatch(queueURL: f.queueURL, entries: [SQSSendEntry(id: "one", body: "hidden for a while")])
        let first = try await f.receive(1, visibilityTimeout: 30)
        #expect(first.count == 1)
        // Hidden: a second receive finds nothing.
        #expect(try await f.sqs.receiveMessages(queueURL: f.queueURL, maxMessages: 10, waitTimeSeconds: 0).isEmpty)
        try await f.sqs.changeMessageVisibility(queueURL: f.queueURL, receiptHandle: try #require(first.first?.receiptHandle), visibilityTimeout: 0)
        #expect(try await f.receive(1).map(\.body) == ["hidden for a while"])
    }

    @Test func badBatchesAndOptionsAreRefusedBeforeSending() async throws {
        let transport = TransportDouble { _, _ in HTTPResponse(status: 500) }
        let sqs = scriptedSQS(transport)
        let url = "http://127.0.0.1:9/123456789012/q"
        let eleven = (0..<11).map { SQSSendEntry(id: "e\($0)", body: "x") }
        let tooMany = await #expect(throws: AWSError.self) { try await sqs.sendMessageBatch(queueURL: url, entries: eleven) }
        #expect(tooMany?.kind == .invalidRequest)
        #expect(tooMany?.description.contains("1 to 10 entries, not 11") == true)
        let twice = await #expect(throws: AWSError.self) {
            try await sqs.sendMessageBatch(queueURL: url, entries: [SQSSendEntry(id: "a", body: "1"), SQSSendEntry(id: "a", body: "2")])
        }
        #expect(twice?.description.contains("'a' is used twice") == true)
        let badID = await #expect(throws: AWSError.self) {
            try await sqs.deleteMessageBatch(queueURL: url, entries: [SQSDeleteEntry(id: "has space", receiptHandle: "r")])
        }
        #expect(badID?.description.contains("must be 1 to 80 letters") == true)
        let wait = await #expect(throws: AWSError.self) { try await sqs.receiveMessages(queueURL: url, waitTimeSeconds: 21) }
        #expect(wait?.kind == .invalidRequest)
        let count = await #expect(throws: AWSError.self) { try await sqs.receiveMessages(queueURL: url, maxMessages: 11) }
        #expect(count?.kind == .invalidRequest)
        #expect(transport.requests.isEmpty)
    }
}

/// An SQS client over a scripted transport, without waiting between retries.
func scriptedSQS(_ transport: TransportDouble, sleeps: SleepRecorder = SleepRecorder(), attempts: Int = 5) -> SQSClient {
    let http = AWSHTTPClient(
        credentials: AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "secret-for-tests"), region: "us-east-1", transport: transport,
        retryPolicy: RetryPolicy(maxAttempts: attempts), sleep: sleeps.sleeper)
    return SQSClient(http: http, endpoint: URL(string: "http://127.0.0.1:9")!)
}
