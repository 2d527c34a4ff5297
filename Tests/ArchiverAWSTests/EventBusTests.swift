import AWSClients
import ArchiverAWS
import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// The outbox delivered to EventBridge (a rule routes it to SQS) and to SQS, and acks read from an SQS queue, on moto.
@Suite("Events on EventBridge and SQS, acks from SQS (moto)")
struct EventBusTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A state folder whose outbox holds `count` events.
    static func outbox(_ folder: TemporaryFolder, count: Int, source: String) throws -> CheckpointStore {
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        try Outbox.append((0..<count).map { n in
            CloudEvent(
                id: CloudEvent.id(subject: "c\(n)", type: "deletion.requested"), source: source, type: "deletion.requested",
                subject: "c\(n)", time: "2024-01-15T10:30:00Z", data: .object([("coordination_id", .string("c\(n)")), ("rule", .string("files"))]))
        }, to: checkpoints, at: start)
        return checkpoints
    }

    static func drain(_ sqs: SQSClient, _ queueURL: String, expecting count: Int) async throws -> [SQSMessage] {
        var messages: [SQSMessage] = []
        let deadline = Date().addingTimeInterval(20)
        while messages.count < count, Date() < deadline {
            let batch = try await sqs.receiveMessages(queueURL: queueURL, maxMessages: 10, waitTimeSeconds: 1)
            messages += batch
            if !batch.isEmpty {
                _ = try await sqs.deleteMessageBatch(queueURL: queueURL, entries: batch.enumerated().map { SQSDeleteEntry(id: "d\($0)", receiptHandle: $1.receiptHandle) })
            }
        }
        return messages
    }

    @Test func eventBridgeRoutesEveryEventToARuleTargetWithItsEnvelope() async throws {
        let server = try await MotoServer.shared()
        let folder = TemporaryFolder("eventbridge-outbox")
        defer { folder.remove() }
        let events = EventBridgeClient(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let sqs = SQSClient(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let queueURL = try await sqs.createQueue(name: MotoServer.uniqueName("deletions"))
        let queueARN = try #require(try await sqs.getQueueAttributes(queueURL: queueURL, names: ["QueueArn"])["QueueArn"])
        let bus = MotoServer.uniqueName("bus")
        _ = try await events.createEventBus(name: bus)
        let source = "archiver://\(bus)"
        _ = try await events.putRule(name: "requests", eventPattern: #"{"source":["\#(source)"],"detail-type":["deletion.requested"]}"#, eventBusName: bus)
        #expect(try await events.putTargets(rule: "requests", eventBusName: bus, targets: [EventBridgeTarget(id: "q", arn: queueARN)]).isEmpty)

        let checkpoints = try Self.outbox(folder, count: 23, source: source)
        let delivery = OutboxDelivery(checkpoints: checkpoints, targets: [EventBridgeEventTarget(bus: bus, client: events)])
        #expect(try await delivery.run().delivered == 23)
        let messages = try await Self.drain(sqs, queueURL, expecting: 23)
        var ids: [String] = []
        for message in messages {
            let body = try JSONValue.parse(message.body)
            #expect(body["source"]?.stringValue == source && body["detail-type"]?.stringValue == "deletion.requested")
            // Detail is the CloudEvents envelope: the same id as every other target gets.
            #expect(body["detail"]?["specversion"]?.stringValue == "1.0")
            ids.append(try #require(body["detail"]?["id"]?.stringValue))
        }
        #expect(Set(ids) == Set((0..<23).map { CloudEvent.id(subject: "c\($0)", type: "deletion.requested") }))
        #expect(try delivery.states()[0].pending == 0)
    }

    @Test func sqsGetsEveryEnvelopeWithItsIdAsAnAttribute() async throws {
        let server = try await MotoServer.shared()
        let folder = TemporaryFolder("sqs-outbox")
        defer { folder.remove() }
        let sqs = SQSClient(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let queueURL = try await sqs.createQueue(name: MotoServer.uniqueName("deletions"))
        let checkpoints = try Self.outbox(folder, count: 15, source: "archiver://test")
        let delivery = OutboxDelivery(checkpoints: checkpoints, targets: [SQSEventTarget(queueURL: queueURL, client: sqs)])
        #expect(try await delivery.run().delivered == 15)
        #expect(try await delivery.run().delivered == 0)
        let messages = try await Self.drain(sqs, queueURL, expecting: 15)
        let ids = try messages.map { try #require(try JSONValue.parse($0.body)["id"]?.stringValue) }
        #expect(Set(ids) == Set((0..<15).map { CloudEvent.id(subject: "c\($0)", type: "deletion.requested") }))
    }

    @Test func acksFromSQSAreRecordedThenDeletedAndRefusedOnesDoNotStay() async throws {
        let server = try await MotoServer.shared()
        let folder = TemporaryFolder("sqs-acks")
        defer { folder.remove() }
        let sqs = SQSClient(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let acksURL = try await sqs.createQueue(name: MotoServer.uniqueName("acks"))
        // One coordinated deletion, through the pipeline.
        let configuration = try ArchiverConfiguration.parse("""
            roots: {files: /srv/files}
            rules:
              - name: files
                match: {table: "*"}
                actions: [{delete-object: {root: files, key: "{OldImage.path.S}"}}]
                coordinate: {consumers: [analytics, billing]}
            """, file: "c.yml")
        try #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1706000000,"Keys":{"PK":{"S":"F1"}},"OldImage":{"path":{"S":"f/1"}},"SequenceNumber":"1"}}"#
            .appending("\n").write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        let pipeline = ArchivePipeline(
            source: JSONLinesSource(path: folder("feed.jsonl")), store: try LocalArchiveStore(path: folder("archive"), access: .create),
            checkpoints: checkpoints, deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: TailOptions(),
            actions: DeletionActions(rules: RuleSet(rules: configuration.rules, roots: configuration.roots), queue: configuration.queue))
        _ = try await pipeline.run(stop: StopSignal())
        let store = CoordinationStore(checkpoints: checkpoints)
        let id = try #require(try store.list().first).id

        func ack(_ data: String) -> SQSSendEntry {
            SQSSendEntry(id: "a\(UUID().uuidString.prefix(8))", body: #"{"specversion":"1.0","id":"\#(UUID().uuidString)","source":"analytics","type":"consumer.completed","data":\#(data)}"#)
        }
        _ = try await sqs.sendMessageBatch(queueURL: acksURL, entries: [
            ack(#"{"coordination_id":"\#(id)","consumer":"analytics","status":"completed"}"#),
            ack(#"{"coordination_id":"\#(id)","consumer":"billing","status":"failed","detail":"no ledger"}"#),
            ack(#"{"coordination_id":"unknown","consumer":"billing"}"#),
            SQSSendEntry(id: "junk", body: "not an event"),
        ])
        let source = SQSAckSource(queueURL: acksURL, client: sqs, waitSeconds: 1)
        let coordinator = Coordinator(store: store, delivery: nil, acks: source)
        var recorded = 0
        let deadline = Date().addingTimeInterval(20)
        while recorded < 3, Date() < deadline { recorded += try await coordinator.step(acks: true).acks }
        #expect(recorded == 3, "two acks recorded, the unknown id refused (and removed)")
        let view = try store.show(id)
        #expect(view.state == .released)
        #expect(view.consumers.map(\.status) == [.completed, .failed])
        #expect(try await sqs.receiveMessages(queueURL: acksURL, maxMessages: 10, waitTimeSeconds: 1).isEmpty, "every message was deleted")
    }
}
