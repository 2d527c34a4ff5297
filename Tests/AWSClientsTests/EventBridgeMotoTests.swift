import AWSClients
import Foundation
import JSONToolkit
import Testing
import TestSupport

@Suite("EventBridge against moto")
struct EventBridgeMotoTests {
    /// PutEvents on a custom bus, a rule matching the source, an SQS queue as target: the events arrive in the queue.
    @Test func eventsReachAQueueThroughARule() async throws {
        let server = try await MotoServer.shared()
        let events = EventBridgeClient(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let queue = try await SQSFixture("events")
        let queueARN = try #require(try await queue.sqs.getQueueAttributes(queueURL: queue.queueURL, names: ["QueueArn"])["QueueArn"])
        let bus = MotoServer.uniqueName("bus")
        let busARN = try await events.createEventBus(name: bus)
        #expect(busARN.hasSuffix(":event-bus/\(bus)"))
        let source = "com.example.\(bus)"
        let ruleARN = try await events.putRule(
            name: "to-queue", eventPattern: #"{"source":["\#(source)"],"detail-type":["deletion.requested"]}"#, eventBusName: bus)
        #expect(ruleARN.contains("to-queue"))
        let failures = try await events.putTargets(rule: "to-queue", eventBusName: bus, targets: [EventBridgeTarget(id: "q", arn: queueARN)])
        #expect(failures.isEmpty)

        let entries = (0..<3).map { n in
            EventBridgeEntry(
                source: source, detailType: "deletion.requested", detail: #"{"coordination":"c-\#(n)","table":"users"}"#, eventBusName: bus,
                resources: ["arn:aws:dynamodb:us-east-1:123456789012:table/users"], time: Date(timeIntervalSince1970: 1_700_000_000))
        }
        // A fourth the rule does not match, and a fifth whose detail is not JSON: refused alone.
        let other = EventBridgeEntry(source: source, detailType: "something.else", detail: "{}", eventBusName: bus)
        let malformed = EventBridgeEntry(source: source, detailType: "deletion.requested", detail: "{not json", eventBusName: bus)
        let result = try await events.putEvents(entries + [other, malformed])
        #expect(result.entries.count == 5)
        #expect(result.failedEntryCount == 1)
        #expect(result.failedIndices == [4])
        #expect(result.entries[4].errorCode == "MalformedDetail")
        #expect(result.entries[4].isRetryable == false)
        #expect(result.entries[0..<4].allSatisfy { $0.isAccepted && ($0.eventID?.isEmpty == false) })
        #expect(result.requestID != nil)

        let received = try await queue.receive(3)
        #expect(received.count == 3)
        var coordinations: Set<String> = []
        for message in received {
            let body = Array(message.body.utf8)
            let sourceRange = try #require(try RawJSON.member("source", of: body))
            #expect(try RawJSON.string(body, in: sourceRange) == source)
            let typeRange = try #require(try RawJSON.member("detail-type", of: body))
            #expect(try RawJSON.string(body, in: typeRange) == "deletion.requested")
            let detail = try #require(try RawJSON.member("detail", of: body))
            let coordination = try #require(try RawJSON.member("coordination", of: body, in: detail))
            coordinations.insert(try RawJSON.string(body, in: coordination))
            let id = try #require(try RawJSON.member("id", of: body))
            #expect(result.entries[0..<3].contains { $0.eventID == (try? RawJSON.string(body, in: id)) })
        }
        #expect(coordinations == ["c-0", "c-1", "c-2"])
        #expect(try await queue.sqs.receiveMessages(queueURL: queue.queueURL, maxMessages: 10, waitTimeSeconds: 1).isEmpty)
    }

    @Test func reservedSourcesAndOversizedCallsAreRefusedBeforeSending() async throws {
        let transport = TransportDouble { _, _ in HTTPResponse(status: 500) }
        let events = scriptedEvents(transport)
        let ok = EventBridgeEntry(source: "com.example.app", detailType: "t", detail: "{}")
        let reserved = await #expect(throws: AWSError.self) {
            try await events.putEvents([ok, EventBridgeEntry(source: "AWS.s3", detailType: "t", detail: "{}")])
        }
        #expect(reserved?.kind == .invalidRequest)
        #expect(reserved?.description.contains("entry 2 has source 'AWS.s3'; sources starting with 'aws.' are reserved") == true)
        let eleven = await #expect(throws: AWSError.self) { try await events.putEvents(Array(repeating: ok, count: 11)) }
        #expect(eleven?.description.contains("1 to 10 entries, not 11") == true)
        let none = await #expect(throws: AWSError.self) { try await events.putEvents([]) }
        #expect(none?.kind == .invalidRequest)
        let big = EventBridgeEntry(source: "com.example.app", detailType: "t", detail: #"{"x":"\#(String(repeating: "y", count: 140_000))"}"#)
        let oversized = await #expect(throws: AWSError.self) { try await events.putEvents([big, big]) }
        #expect(oversized?.description.contains("over the 262144 bytes") == true)
        let noType = await #expect(throws: AWSError.self) {
            try await events.putEvents([EventBridgeEntry(source: "com.example.app", detailType: "", detail: "{}")])
        }
        #expect(noType?.description.contains("empty detail type") == true)
        #expect(transport.requests.isEmpty)
    }

    /// EventBridge may accept some entries and throttle others; only those are sent again.
    @Test func partialFailuresAreResentAlone() async throws {
        let transport = TransportDouble { request, n in
            let sent = String(decoding: request.body, as: UTF8.self)
            if n == 1 {
                #expect(sent.components(separatedBy: "\"Source\"").count - 1 == 3)
                return HTTPResponse(
                    status: 200, headers: ["x-amzn-RequestId": "put-1"],
                    body: Array(
                        #"{"FailedEntryCount":2,"Entries":[{"EventId":"e-0"},{"ErrorCode":"ThrottlingException","ErrorMessage":"Rate exceeded"},{"ErrorCode":"InternalFailure","ErrorMessage":"internal"}]}"#
                            .utf8))
            }
            #expect(sent.components(separatedBy: "\"Source\"").count - 1 == 2)
            #expect(sent.contains(#""Detail":"{\"n\":1}""#) && sent.contains(#""Detail":"{\"n\":2}""#) && !sent.contains(#""Detail":"{\"n\":0}""#))
            return HTTPResponse(status: 200, headers: ["x-amzn-RequestId": "put-2"], body: Array(#"{"FailedEntryCount":0,"Entries":[{"EventId":"e-1"},{"EventId":"e-2"}]}"#.utf8))
        }
        let events = scriptedEvents(transport)
        let entries = (0..<3).map { EventBridgeEntry(source: "com.example.app", detailType: "t", detail: #"{"n":\#($0)}"#) }
        let first = try await events.putEvents(entries)
        #expect(first.requestID == "put-1")
        #expect(first.failedIndices == [1, 2])
        #expect(first.entries[1].isRetryable && first.entries[2].isRetryable)
        let second = try await events.putEvents(first.failedIndices.map { entries[$0] })
        #expect(second.failedIndices.isEmpty)
        #expect(second.entries.map(\.eventID) == ["e-1", "e-2"])
        // JSON 1.1, signed for "events".
        let request = try #require(transport.requests.first)
        #expect(request.header("X-Amz-Target") == "AWSEvents.PutEvents")
        #expect(request.header("Content-Type") == "application/x-amz-json-1.1")
        #expect(request.header("Authorization")?.contains("/us-east-1/events/aws4_request") == true)
    }

    @Test func fewerResultsThanEntriesIsAnInvalidResponse() async throws {
        let transport = TransportDouble { _, _ in HTTPResponse(status: 200, body: Array(#"{"FailedEntryCount":0,"Entries":[{"EventId":"e-0"}]}"#.utf8)) }
        let events = scriptedEvents(transport)
        let entry = EventBridgeEntry(source: "com.example.app", detailType: "t", detail: "{}")
        let error = await #expect(throws: AWSError.self) { try await events.putEvents([entry, entry]) }
        #expect(error?.kind == .invalidResponse)
    }
}

/// An EventBridge client over a scripted transport, without waiting between retries.
func scriptedEvents(_ transport: TransportDouble, sleeps: SleepRecorder = SleepRecorder()) -> EventBridgeClient {
    let http = AWSHTTPClient(
        credentials: AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "secret-for-tests"), region: "us-east-1", transport: transport,
        sleep: sleeps.sleeper)
    return EventBridgeClient(http: http, endpoint: URL(string: "http://127.0.0.1:9")!)
}
