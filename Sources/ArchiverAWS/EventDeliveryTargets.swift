import AWSClients
import ArchiverCore
import Foundation
import JSONToolkit
import Logging

/// Posts each event, one request each and in order, to an HTTP endpoint, signed per Standard Webhooks.
///
/// 2xx: delivered. 5xx, 408, 429 and connection failures: tried again after a backoff. 410 Gone: the endpoint is
/// disabled. Any other 4xx: the event is parked for this endpoint with the status and the start of the answer.
public struct WebhookEventTarget: EventTarget {
    public let url: URL
    let signer: WebhookSigner
    let transport: any HTTPTransport
    let clock: any WallClock

    public var name: String { "webhook:\(url.absoluteString)" }

    public init(url: URL, signer: WebhookSigner, transport: any HTTPTransport, clock: any WallClock = SystemClock()) {
        self.url = url
        self.signer = signer
        self.transport = transport
        self.clock = clock
    }

    public func deliver(_ events: [OutboxEvent]) async -> DeliveryResult {
        for (index, event) in events.enumerated() {
            let body = Array(event.envelope.utf8)
            let timestamp = Int(clock.now().timeIntervalSince1970)
            let request = HTTPRequest(
                method: "POST", url: url,
                headers: [("content-type", "application/cloudevents+json"), ("user-agent", "archiver")] + signer.headers(id: event.id, timestamp: timestamp, body: body),
                body: body)
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch {
                return DeliveryResult(delivered: index, failure: .retry("POST \(url.absoluteString): \(error)"))
            }
            switch response.status {
            case 200..<300:
                continue
            case 410:
                return DeliveryResult(delivered: index, failure: .disable("POST \(url.absoluteString): HTTP 410 Gone; the endpoint is disabled"))
            case 408, 429, 500...:
                return DeliveryResult(delivered: index, failure: .retry("POST \(url.absoluteString): HTTP \(response.status)"))
            default:
                let answer = String(decoding: response.body.prefix(300), as: UTF8.self)
                return DeliveryResult(delivered: index, failure: .park("POST \(url.absoluteString): HTTP \(response.status): \(answer)"))
            }
        }
        return DeliveryResult(delivered: events.count)
    }
}

/// Sends events to an EventBridge bus with PutEvents, at most 10 a call: `Source` is the event's source, `DetailType`
/// its type, `Detail` its whole CloudEvents envelope (so rules match `detail.data.rule`, and consumers get the id).
/// Entries EventBridge refuses are resent alone (a few times, right away); what is still refused is retried later.
public struct EventBridgeEventTarget: EventTarget {
    public let bus: String
    let client: EventBridgeClient
    let detailTypePrefix: String?

    public var name: String { "eventbridge:\(bus)" }

    public init(bus: String, client: EventBridgeClient, detailTypePrefix: String? = nil) {
        self.bus = bus
        self.client = client
        self.detailTypePrefix = detailTypePrefix
    }

    func entry(_ event: OutboxEvent) -> EventBridgeEntry {
        let source = event.cloudEvent?.source ?? "archiver"
        let time = ISO8601DateFormatter().date(from: event.time)
        return EventBridgeEntry(
            source: source, detailType: (detailTypePrefix ?? "") + event.type, detail: event.envelope, eventBusName: bus, time: time)
    }

    public func deliver(_ events: [OutboxEvent]) async -> DeliveryResult {
        for start in stride(from: 0, to: events.count, by: EventBridgeClient.maximumEntriesPerCall) {
            var pending = Array(start..<min(events.count, start + EventBridgeClient.maximumEntriesPerCall))
            var lastError = ""
            var refused: (position: Int, reason: String)?
            for _ in 0..<4 where !pending.isEmpty {
                do {
                    let result = try await client.putEvents(pending.map { entry(events[$0]) })
                    var still: [Int] = []
                    for index in result.failedIndices {
                        let position = pending[index]
                        let reason = "\(result.entries[index].errorCode ?? "?"): \(result.entries[index].errorMessage ?? "")"
                        if result.entries[index].isRetryable {
                            still.append(position)
                            lastError = reason
                        } else if refused == nil || position < refused!.position {
                            refused = (position, reason)
                        }
                    }
                    pending = still
                } catch {
                    lastError = "\(error)"
                    break
                }
            }
            if let refused, refused.position < (pending.min() ?? Int.max) {
                return DeliveryResult(delivered: refused.position, failure: .park("PutEvents refused the event \(events[refused.position].id): \(refused.reason)"))
            }
            if let first = pending.min() {
                return DeliveryResult(delivered: first, failure: .retry("PutEvents to \(bus): \(lastError)"))
            }
        }
        return DeliveryResult(delivered: events.count)
    }
}

/// Sends events to an SQS queue with SendMessageBatch, 10 a call; the body is the CloudEvents envelope, and the
/// message attributes carry `ce-id` and `ce-type` so a consumer can filter without parsing.
public struct SQSEventTarget: EventTarget {
    public let queueURL: String
    let client: SQSClient

    public var name: String { "sqs:\(queueURL)" }

    public init(queueURL: String, client: SQSClient) {
        self.queueURL = queueURL
        self.client = client
    }

    public func deliver(_ events: [OutboxEvent]) async -> DeliveryResult {
        for start in stride(from: 0, to: events.count, by: SQSClient.maximumBatchEntries) {
            var pending = Array(start..<min(events.count, start + SQSClient.maximumBatchEntries))
            var lastError = ""
            var refused: (position: Int, reason: String)?
            for _ in 0..<4 where !pending.isEmpty {
                do {
                    let result = try await client.sendMessageBatch(queueURL: queueURL, entries: pending.map { position in
                        SQSSendEntry(id: "e\(position)", body: events[position].envelope, attributes: [
                            "ce-id": .string(events[position].id), "ce-type": .string(events[position].type),
                        ])
                    })
                    var still: [Int] = []
                    for failure in result.failed {
                        guard let position = Int(failure.id.dropFirst()) else { continue }
                        if failure.senderFault {
                            if refused == nil || position < refused!.position { refused = (position, "\(failure.code): \(failure.message)") }
                        } else {
                            still.append(position)
                            lastError = failure.description
                        }
                    }
                    pending = still
                } catch {
                    lastError = "\(error)"
                    break
                }
            }
            if let refused, refused.position < (pending.min() ?? Int.max) {
                return DeliveryResult(delivered: refused.position, failure: .park("SendMessageBatch refused the event \(events[refused.position].id): \(refused.reason)"))
            }
            if let first = pending.min() {
                return DeliveryResult(delivered: first, failure: .retry("SendMessageBatch to \(queueURL): \(lastError)"))
            }
        }
        return DeliveryResult(delivered: events.count)
    }
}

/// Reads `consumer.completed` events from an SQS queue (long polling), records each ack durably, and only then
/// deletes the messages (DeleteMessageBatch). A message whose body is not a `consumer.completed` CloudEvent is
/// logged and deleted; an ack that cannot be recorded now stays, to be received again.
public struct SQSAckSource: AckSource {
    public let queueURL: String
    let client: SQSClient
    let waitSeconds: Int
    let logger: Logger

    public init(queueURL: String, client: SQSClient, waitSeconds: Int = 20, logger: Logger = Logger(label: "archiver.coordination")) {
        self.queueURL = queueURL
        self.client = client
        self.waitSeconds = max(0, min(20, waitSeconds))
        self.logger = logger
    }

    public func receive(record: @Sendable (ReceivedAck) throws -> Void) async throws -> Int {
        let messages = try await client.receiveMessages(queueURL: queueURL, maxMessages: 10, waitTimeSeconds: waitSeconds)
        var done: [SQSDeleteEntry] = []
        var recorded = 0
        for (index, message) in messages.enumerated() {
            guard let envelope = try? JSONValue.parse(message.body), let event = CloudEvent(envelope: envelope), let ack = ReceivedAck(event: event) else {
                logger.warning("a message on the acks queue is not a consumer.completed event; it is deleted",
                               metadata: ["sqs.message": "\(message.messageID)", "body": "\(message.body.prefix(200))"])
                done.append(SQSDeleteEntry(id: "m\(index)", receiptHandle: message.receiptHandle))
                continue
            }
            do {
                try record(ack)
                recorded += 1
                done.append(SQSDeleteEntry(id: "m\(index)", receiptHandle: message.receiptHandle))
            } catch {
                logger.warning("an ack could not be recorded; it stays on the queue", metadata: ["coordination.id": "\(ack.coordination)", "error": "\(error)"])
            }
        }
        if !done.isEmpty { _ = try await client.deleteMessageBatch(queueURL: queueURL, entries: done) }
        return recorded
    }
}
