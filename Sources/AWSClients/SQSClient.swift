import Crypto
import Foundation
import JSONToolkit
import Logging

/// An Amazon SQS client over the JSON 1.0 protocol (`X-Amz-Target: AmazonSQS.<Op>`, signed as service "sqs").
///
/// Calls go to the configured SQS endpoint and name their queue by URL in the body. Batch calls fail per entry:
/// the result lists the entries refused, so that only they are sent again. Message bodies are checked against the
/// MD5 digests SQS answers with, as the AWS SDKs do.
public struct SQSClient: Sendable {
    private let json: AWSJSONProtocol

    /// The most entries one batch call takes.
    public static let maximumBatchEntries = 10

    /// The HTTP layer: signing, retries, logging.
    public var http: AWSHTTPClient { json.http }
    /// The SQS endpoint.
    public var endpoint: URL { json.endpoint }

    /// Creates a client over an HTTP layer.
    public init(http: AWSHTTPClient, endpoint: URL) {
        json = AWSJSONProtocol(http: http, service: .sqs, endpoint: endpoint, targetPrefix: "AmazonSQS")
    }

    /// Creates a client from resolved settings.
    public init(
        settings: AWSSettings, transport: any HTTPTransport = NIOHTTPTransport.shared(), retryPolicy: RetryPolicy = .standard,
        logger: Logger = Logger(label: "archiver.aws.sqs")
    ) {
        self.init(
            http: AWSHTTPClient(settings: settings, transport: transport, retryPolicy: retryPolicy, logger: logger),
            endpoint: settings.endpoint(for: .sqs))
    }

    private func meta(_ queue: String) -> Logger.Metadata { ["sqs.queue": "\(queue)"] }

    // MARK: Queues

    /// Creates a queue (or returns the URL of the existing queue with the same attributes).
    /// - Parameter attributes: e.g. `["VisibilityTimeout": "30", "FifoQueue": "true"]`.
    @discardableResult
    public func createQueue(name: String, attributes: [String: String] = [:]) async throws -> String {
        var body = JSONObjectWriter()
        body.string("QueueName", name)
        if !attributes.isEmpty { body.stringMap("Attributes", attributes.sorted { $0.key < $1.key }) }
        struct Response: Decodable { let QueueUrl: String }
        return try await json.call("CreateQueue", body: body.finished(), resource: AWSResource(queue: name), as: Response.self, metadata: meta(name))
            .QueueUrl
    }

    /// The URL of a queue.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/queueDoesNotExist`` when there is no such queue.
    public func getQueueURL(name: String, ownerAccountID: String? = nil) async throws -> String {
        var body = JSONObjectWriter()
        body.string("QueueName", name)
        if let ownerAccountID { body.string("QueueOwnerAWSAccountId", ownerAccountID) }
        struct Response: Decodable { let QueueUrl: String }
        return try await json.call("GetQueueUrl", body: body.finished(), resource: AWSResource(queue: name), as: Response.self, metadata: meta(name))
            .QueueUrl
    }

    /// A queue's attributes, e.g. "QueueArn", "ApproximateNumberOfMessages"; `names` ["All"] for every one.
    public func getQueueAttributes(queueURL: String, names: [String] = ["All"]) async throws -> [String: String] {
        var body = JSONObjectWriter()
        body.string("QueueUrl", queueURL)
        body.raw("AttributeNames", JSONArrayWriter.strings(names))
        struct Response: Decodable { let Attributes: [String: String]? }
        return try await json.call(
            "GetQueueAttributes", body: body.finished(), resource: AWSResource(queue: queueURL), as: Response.self, metadata: meta(queueURL)
        ).Attributes ?? [:]
    }

    /// Deletes a queue and its messages.
    public func deleteQueue(queueURL: String) async throws {
        var body = JSONObjectWriter()
        body.string("QueueUrl", queueURL)
        _ = try await json.call("DeleteQueue", body: body.finished(), resource: AWSResource(queue: queueURL), metadata: meta(queueURL))
    }

    // MARK: Messages

    /// Sends 1 to 10 messages in one SendMessageBatch call; the result lists the accepted and the refused entries.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/invalidRequest``, before sending, for no entries, more than 10,
    ///   or IDs that are not 1 to 80 letters, digits, `-` or `_` or not unique; kind `invalidResponse` when SQS answers
    ///   with an MD5 that does not match a body sent.
    public func sendMessageBatch(queueURL: String, entries: [SQSSendEntry]) async throws -> SQSSendBatchResult {
        try checkBatch("SendMessageBatch", queueURL: queueURL, ids: entries.map(\.id))
        var body = JSONObjectWriter()
        body.string("QueueUrl", queueURL)
        body.raw("Entries", JSONArrayWriter.objects(entries) { entry, item in
            item.string("Id", entry.id)
            item.string("MessageBody", entry.body)
            if let delay = entry.delaySeconds { item.int("DelaySeconds", delay) }
            if !entry.attributes.isEmpty { item.raw("MessageAttributes", Self.attributesJSON(entry.attributes)) }
            if let group = entry.messageGroupID { item.string("MessageGroupId", group) }
            if let dedup = entry.messageDeduplicationID { item.string("MessageDeduplicationId", dedup) }
        })
        struct Response: Decodable {
            struct Sent: Decodable {
                let Id: String
                let MessageId: String
                let MD5OfMessageBody: String?
                let SequenceNumber: String?
            }
            let Successful: [Sent]?
            let Failed: [SQSFailureEntry]?
        }
        let resource = AWSResource(queue: queueURL)
        var metadata = meta(queueURL)
        metadata["sqs.entries"] = "\(entries.count)"
        let response = try await json.call("SendMessageBatch", body: body.finished(), resource: resource, metadata: metadata)
        let decoded = try json.decode(Response.self, from: response, operation: "SendMessageBatch", resource: resource)
        let requestID = response.header("x-amzn-requestid")
        let bodies = Dictionary(entries.map { ($0.id, $0.body) }, uniquingKeysWith: { a, _ in a })
        for sent in decoded.Successful ?? [] {
            guard let sentBody = bodies[sent.Id] else {
                throw AWSError.invalidResponse(
                    .sqs, operation: "SendMessageBatch", reason: "SQS answered for entry '\(sent.Id)', which was not sent", requestID: requestID,
                    resource: resource)
            }
            if let md5 = sent.MD5OfMessageBody, md5.lowercased() != Self.md5Hex(sentBody) {
                throw AWSError.invalidResponse(
                    .sqs, operation: "SendMessageBatch", reason: "the MD5 of entry '\(sent.Id)' does not match its body; the message may be damaged",
                    requestID: requestID, resource: resource)
            }
        }
        let failed = (decoded.Failed ?? []).map(\.failure)
        if let first = failed.first {
            http.logger.debug(
                "SendMessageBatch refused entries",
                metadata: metadata.merging([
                    "aws.service": "SQS", "sqs.failed_entries": "\(failed.count)", "aws.error_code": "\(first.code)",
                    "aws.request_id": "\(requestID ?? "")",
                ]) { $1 })
        }
        return SQSSendBatchResult(
            successful: (decoded.Successful ?? []).map { SQSSentMessage(id: $0.Id, messageID: $0.MessageId, sequenceNumber: $0.SequenceNumber) },
            failed: failed, requestID: requestID)
    }

    /// Receives up to `maxMessages` messages (1 … 10), waiting up to `waitTimeSeconds` (0 … 20) for the first (long polling).
    /// The transport's request timeout must be longer than the wait.
    ///
    /// - Parameters:
    ///   - visibilityTimeout: seconds (0 … 43,200) the messages stay hidden from other receivers; nil uses the queue's.
    ///   - systemAttributeNames: e.g. ["All"] or ["ApproximateReceiveCount", "SentTimestamp"].
    ///   - messageAttributeNames: message attributes to return, e.g. ["All"].
    /// - Throws: ``AWSError`` of kind `invalidRequest` for values out of range; kind `invalidResponse` when a body does not
    ///   match its MD5.
    public func receiveMessages(
        queueURL: String, maxMessages: Int = 1, waitTimeSeconds: Int? = nil, visibilityTimeout: Int? = nil,
        systemAttributeNames: [String] = [], messageAttributeNames: [String] = []
    ) async throws -> [SQSMessage] {
        let resource = AWSResource(queue: queueURL)
        func refuse(_ reason: String) -> AWSError { AWSError.invalidRequest(.sqs, operation: "ReceiveMessage", reason: reason, resource: resource) }
        guard (1...10).contains(maxMessages) else { throw refuse("at most 1 to 10 messages can be received at once, not \(maxMessages)") }
        if let wait = waitTimeSeconds, !(0...20).contains(wait) { throw refuse("the wait time must be 0 to 20 seconds, not \(wait)") }
        if let visibility = visibilityTimeout, !(0...43_200).contains(visibility) {
            throw refuse("the visibility timeout must be 0 to 43200 seconds, not \(visibility)")
        }
        var body = JSONObjectWriter()
        body.string("QueueUrl", queueURL)
        body.int("MaxNumberOfMessages", maxMessages)
        if let waitTimeSeconds { body.int("WaitTimeSeconds", waitTimeSeconds) }
        if let visibilityTimeout { body.int("VisibilityTimeout", visibilityTimeout) }
        if !systemAttributeNames.isEmpty { body.raw("MessageSystemAttributeNames", JSONArrayWriter.strings(systemAttributeNames)) }
        if !messageAttributeNames.isEmpty { body.raw("MessageAttributeNames", JSONArrayWriter.strings(messageAttributeNames)) }
        struct Response: Decodable {
            struct Message: Decodable {
                let MessageId: String
                let ReceiptHandle: String
                let Body: String?
                let MD5OfBody: String?
                let Attributes: [String: String]?
                let MessageAttributes: [String: SQSAttributeValue]?
            }
            let Messages: [Message]?
        }
        let response = try await json.call("ReceiveMessage", body: body.finished(), resource: resource, metadata: meta(queueURL))
        let decoded = try json.decode(Response.self, from: response, operation: "ReceiveMessage", resource: resource)
        return try (decoded.Messages ?? []).map { message in
            let text = message.Body ?? ""
            if let md5 = message.MD5OfBody, md5.lowercased() != Self.md5Hex(text) {
                throw AWSError.invalidResponse(
                    .sqs, operation: "ReceiveMessage", reason: "the body of message \(message.MessageId) does not match its MD5",
                    requestID: response.header("x-amzn-requestid"), resource: resource)
            }
            return SQSMessage(
                messageID: message.MessageId, receiptHandle: message.ReceiptHandle, body: text, systemAttributes: message.Attributes ?? [:],
                attributes: (message.MessageAttributes ?? [:]).mapValues(\.attribute))
        }
    }

    /// Deletes 1 to 10 received messages in one DeleteMessageBatch call; the result lists the entries not deleted.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/invalidRequest``, before sending, for no entries, more than 10, or bad IDs.
    public func deleteMessageBatch(queueURL: String, entries: [SQSDeleteEntry]) async throws -> SQSDeleteBatchResult {
        try checkBatch("DeleteMessageBatch", queueURL: queueURL, ids: entries.map(\.id))
        var body = JSONObjectWriter()
        body.string("QueueUrl", queueURL)
        body.raw("Entries", JSONArrayWriter.objects(entries) { entry, item in
            item.string("Id", entry.id)
            item.string("ReceiptHandle", entry.receiptHandle)
        })
        struct Response: Decodable {
            struct Deleted: Decodable { let Id: String }
            let Successful: [Deleted]?
            let Failed: [SQSFailureEntry]?
        }
        let resource = AWSResource(queue: queueURL)
        var metadata = meta(queueURL)
        metadata["sqs.entries"] = "\(entries.count)"
        let response = try await json.call("DeleteMessageBatch", body: body.finished(), resource: resource, metadata: metadata)
        let decoded = try json.decode(Response.self, from: response, operation: "DeleteMessageBatch", resource: resource)
        return SQSDeleteBatchResult(
            successful: (decoded.Successful ?? []).map(\.Id), failed: (decoded.Failed ?? []).map(\.failure),
            requestID: response.header("x-amzn-requestid"))
    }

    /// Hides a received message for `visibilityTimeout` more seconds from now (0 makes it visible at once).
    public func changeMessageVisibility(queueURL: String, receiptHandle: String, visibilityTimeout: Int) async throws {
        let resource = AWSResource(queue: queueURL)
        guard (0...43_200).contains(visibilityTimeout) else {
            throw AWSError.invalidRequest(
                .sqs, operation: "ChangeMessageVisibility", reason: "the visibility timeout must be 0 to 43200 seconds, not \(visibilityTimeout)",
                resource: resource)
        }
        var body = JSONObjectWriter()
        body.string("QueueUrl", queueURL)
        body.string("ReceiptHandle", receiptHandle)
        body.int("VisibilityTimeout", visibilityTimeout)
        _ = try await json.call("ChangeMessageVisibility", body: body.finished(), resource: resource, metadata: meta(queueURL))
    }

    // MARK: Helpers

    private func checkBatch(_ operation: String, queueURL: String, ids: [String]) throws {
        func refuse(_ reason: String) -> AWSError {
            AWSError.invalidRequest(.sqs, operation: operation, reason: reason, resource: AWSResource(queue: queueURL))
        }
        guard (1...Self.maximumBatchEntries).contains(ids.count) else {
            throw refuse("one \(operation) call takes 1 to \(Self.maximumBatchEntries) entries, not \(ids.count); send them in batches")
        }
        var seen = Set<String>()
        for id in ids {
            let valid = (1...80).contains(id.utf8.count) && id.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                    || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            }
            guard valid else { throw refuse("the entry ID '\(id)' must be 1 to 80 letters, digits, '-' or '_'") }
            guard seen.insert(id).inserted else { throw refuse("the entry ID '\(id)' is used twice in one batch") }
        }
    }

    private static func attributesJSON(_ attributes: [String: SQSMessageAttribute]) -> [UInt8] {
        var object = JSONObjectWriter()
        for (name, attribute) in attributes.sorted(by: { $0.key < $1.key }) {
            var value = JSONObjectWriter()
            value.string("DataType", attribute.dataType)
            if let text = attribute.stringValue { value.string("StringValue", text) }
            if let bytes = attribute.binaryValue { value.string("BinaryValue", Data(bytes).base64EncodedString()) }
            object.raw(name, value.finished())
        }
        return object.finished()
    }

    static func md5Hex(_ text: String) -> String {
        AWSHTTPClient.hex(Insecure.MD5.hash(data: Array(text.utf8)))
    }
}
