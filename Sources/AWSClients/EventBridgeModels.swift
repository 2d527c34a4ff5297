import Foundation

/// One event for ``EventBridgeClient/putEvents(_:)``.
public struct EventBridgeEntry: Sendable, Equatable {
    /// Who sent the event, e.g. "com.example.archiver"; must not start with "aws." (reserved for AWS services).
    public var source: String
    /// The kind of event, e.g. "deletion.requested".
    public var detailType: String
    /// The event's data: a JSON object as text.
    public var detail: String
    /// The bus; nil is the account's default bus.
    public var eventBusName: String?
    /// ARNs the event is about.
    public var resources: [String]
    /// When the event happened; nil lets EventBridge use the time it received it.
    public var time: Date?
    /// An X-Ray trace header.
    public var traceHeader: String?

    /// Creates an entry.
    public init(
        source: String, detailType: String, detail: String, eventBusName: String? = nil, resources: [String] = [], time: Date? = nil,
        traceHeader: String? = nil
    ) {
        self.source = source
        self.detailType = detailType
        self.detail = detail
        self.eventBusName = eventBusName
        self.resources = resources
        self.time = time
        self.traceHeader = traceHeader
    }

    /// The size EventBridge counts against its 256 KB limit: 14 bytes for a time, then the UTF-8 bytes of source,
    /// detail type, detail and resources.
    public var size: Int {
        (time == nil ? 0 : 14) + source.utf8.count + detailType.utf8.count + detail.utf8.count + resources.reduce(0) { $0 + $1.utf8.count }
    }
}

/// What EventBridge answered for one entry of a PutEvents call.
public struct EventBridgeEntryResult: Sendable, Equatable {
    /// The event's ID when it was accepted.
    public var eventID: String?
    /// The error code when it was not, e.g. "MalformedDetail", "ThrottlingException", "InternalFailure".
    public var errorCode: String?
    /// The error message when it was not.
    public var errorMessage: String?

    /// Whether the entry was accepted.
    public var isAccepted: Bool { eventID != nil && errorCode == nil }

    /// Whether sending the entry again may succeed: throttling and internal failures, not a malformed entry.
    public var isRetryable: Bool {
        guard let errorCode else { return false }
        return errorCode == "InternalFailure" || errorCode == "InternalException" || RetryPolicy.throttlingErrorCodes.contains(errorCode)
            || RetryPolicy.transientErrorCodes.contains(errorCode)
    }
}

/// The answer to a PutEvents call.
public struct EventBridgePutEventsResult: Sendable, Equatable {
    /// One result per entry sent, in the order sent.
    public var entries: [EventBridgeEntryResult]
    /// How many entries were not accepted.
    public var failedEntryCount: Int
    /// The request ID of the call.
    public var requestID: String?

    /// The positions (in the entries sent) of the entries not accepted: send only these again.
    public var failedIndices: [Int] { entries.indices.filter { !entries[$0].isAccepted } }
}

/// A target of an EventBridge rule.
public struct EventBridgeTarget: Sendable, Equatable {
    /// The target's ID, unique within the rule.
    public var id: String
    /// The ARN of the target, e.g. an SQS queue's ARN.
    public var arn: String

    /// Creates a target.
    public init(id: String, arn: String) {
        self.id = id
        self.arn = arn
    }
}

/// A target that PutTargets could not add.
public struct EventBridgeTargetFailure: Sendable, Equatable {
    /// The target's ID.
    public var targetID: String
    /// The error code.
    public var errorCode: String
    /// The error message.
    public var errorMessage: String
}
