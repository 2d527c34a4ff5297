import Foundation

/// A message attribute (`MessageAttributes`): a string, number or binary value with its data type.
public struct SQSMessageAttribute: Sendable, Equatable {
    /// "String", "Number" or "Binary", optionally with a custom suffix ("String.json").
    public var dataType: String
    /// The value of a String or Number attribute.
    public var stringValue: String?
    /// The value of a Binary attribute.
    public var binaryValue: [UInt8]?

    /// A String attribute.
    public static func string(_ value: String) -> SQSMessageAttribute { SQSMessageAttribute(dataType: "String", stringValue: value) }
    /// A Number attribute (the number as text).
    public static func number(_ value: String) -> SQSMessageAttribute { SQSMessageAttribute(dataType: "Number", stringValue: value) }

    /// Creates an attribute.
    public init(dataType: String, stringValue: String? = nil, binaryValue: [UInt8]? = nil) {
        self.dataType = dataType
        self.stringValue = stringValue
        self.binaryValue = binaryValue
    }
}

/// One message of a SendMessageBatch call.
public struct SQSSendEntry: Sendable, Equatable {
    /// The entry's ID within the batch (1 to 80 letters, digits, `-` or `_`), which the result names.
    public var id: String
    /// The message body.
    public var body: String
    /// Seconds before the message can be received (0 … 900); nil uses the queue's delay.
    public var delaySeconds: Int?
    /// Message attributes.
    public var attributes: [String: SQSMessageAttribute]
    /// The message group (FIFO queues).
    public var messageGroupID: String?
    /// The deduplication ID (FIFO queues without content-based deduplication).
    public var messageDeduplicationID: String?

    /// Creates an entry.
    public init(
        id: String, body: String, delaySeconds: Int? = nil, attributes: [String: SQSMessageAttribute] = [:], messageGroupID: String? = nil,
        messageDeduplicationID: String? = nil
    ) {
        self.id = id
        self.body = body
        self.delaySeconds = delaySeconds
        self.attributes = attributes
        self.messageGroupID = messageGroupID
        self.messageDeduplicationID = messageDeduplicationID
    }
}

/// A message accepted by SendMessageBatch.
public struct SQSSentMessage: Sendable, Equatable {
    /// The entry's ID in the batch.
    public var id: String
    /// The message ID SQS gave.
    public var messageID: String
    /// The sequence number (FIFO queues).
    public var sequenceNumber: String?
}

/// An entry of a batch call that SQS refused.
public struct SQSBatchFailure: Sendable, Equatable, CustomStringConvertible {
    /// The entry's ID in the batch.
    public var id: String
    /// The error code, e.g. "InvalidParameterValue".
    public var code: String
    /// The error message.
    public var message: String
    /// Whether the entry itself is at fault (sending it again as it is will fail again); false for SQS's own failures.
    public var senderFault: Bool

    public var description: String { "\(id): \(code): \(message)" }
}

/// The answer to SendMessageBatch.
public struct SQSSendBatchResult: Sendable, Equatable {
    /// The messages accepted.
    public var successful: [SQSSentMessage]
    /// The entries refused.
    public var failed: [SQSBatchFailure]
    /// The request ID of the call.
    public var requestID: String?
}

/// A message received from a queue.
public struct SQSMessage: Sendable, Equatable {
    /// The message ID.
    public var messageID: String
    /// The handle that deletes the message or changes its visibility (valid for this receipt only).
    public var receiptHandle: String
    /// The body.
    public var body: String
    /// System attributes asked for, e.g. "ApproximateReceiveCount", "SentTimestamp".
    public var systemAttributes: [String: String]
    /// Message attributes asked for.
    public var attributes: [String: SQSMessageAttribute]

    /// How many times the message was received, this time included (when asked for).
    public var receiveCount: Int? { systemAttributes["ApproximateReceiveCount"].flatMap { Int($0) } }
}

/// One message to delete in DeleteMessageBatch.
public struct SQSDeleteEntry: Sendable, Equatable {
    /// The entry's ID within the batch.
    public var id: String
    /// The receipt handle of the message.
    public var receiptHandle: String

    /// Creates an entry.
    public init(id: String, receiptHandle: String) {
        self.id = id
        self.receiptHandle = receiptHandle
    }
}

/// The answer to DeleteMessageBatch.
public struct SQSDeleteBatchResult: Sendable, Equatable {
    /// The IDs of the entries deleted.
    public var successful: [String]
    /// The entries that could not be deleted.
    public var failed: [SQSBatchFailure]
    /// The request ID of the call.
    public var requestID: String?
}

/// Decodes SQS's batch failure entries; `SenderFault` comes as a boolean from SQS and as a string from some emulators.
struct SQSFailureEntry: Decodable {
    let Id: String
    let Code: String?
    let Message: String?
    let SenderFault: Bool

    enum CodingKeys: String, CodingKey { case Id, Code, Message, SenderFault }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        Id = try c.decode(String.self, forKey: .Id)
        Code = try c.decodeIfPresent(String.self, forKey: .Code)
        Message = try c.decodeIfPresent(String.self, forKey: .Message)
        if let flag = try? c.decodeIfPresent(Bool.self, forKey: .SenderFault) {
            SenderFault = flag
        } else {
            SenderFault = (try? c.decodeIfPresent(String.self, forKey: .SenderFault))?.lowercased() == "true"
        }
    }

    var failure: SQSBatchFailure { SQSBatchFailure(id: Id, code: Code ?? "", message: Message ?? "", senderFault: SenderFault) }
}

/// Decodes a message attribute value.
struct SQSAttributeValue: Decodable {
    let DataType: String
    let StringValue: String?
    let BinaryValue: String?

    var attribute: SQSMessageAttribute {
        SQSMessageAttribute(dataType: DataType, stringValue: StringValue, binaryValue: BinaryValue.flatMap { Data(base64Encoded: $0) }.map { Array($0) })
    }
}
