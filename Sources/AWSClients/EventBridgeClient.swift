import Foundation
import JSONToolkit
import Logging

/// An Amazon EventBridge client over the JSON 1.1 protocol (`X-Amz-Target: AWSEvents.<Op>`, signed as service "events").
///
/// PutEvents fails per entry: a call that succeeds may still have refused some entries, and
/// ``EventBridgePutEventsResult/failedIndices`` names them so that only they are sent again.
public struct EventBridgeClient: Sendable {
    private let json: AWSJSONProtocol

    /// The most entries one PutEvents call takes.
    public static let maximumEntriesPerCall = 10
    /// The most bytes (as ``EventBridgeEntry/size`` counts them) one PutEvents call takes: 256 KB.
    public static let maximumCallSize = 256 * 1024

    /// The HTTP layer: signing, retries, logging.
    public var http: AWSHTTPClient { json.http }
    /// The EventBridge endpoint.
    public var endpoint: URL { json.endpoint }

    /// Creates a client over an HTTP layer.
    public init(http: AWSHTTPClient, endpoint: URL) {
        json = AWSJSONProtocol(http: http, service: .eventBridge, endpoint: endpoint, targetPrefix: "AWSEvents", version: "1.1")
    }

    /// Creates a client from resolved settings.
    public init(
        settings: AWSSettings, transport: any HTTPTransport = NIOHTTPTransport.shared(), retryPolicy: RetryPolicy = .standard,
        logger: Logger = Logger(label: "archiver.aws.eventbridge")
    ) {
        self.init(
            http: AWSHTTPClient(settings: settings, transport: transport, retryPolicy: retryPolicy, logger: logger),
            endpoint: settings.endpoint(for: .eventBridge))
    }

    // MARK: Events

    /// Sends 1 to 10 events in one PutEvents call and returns each entry's outcome, in the order sent.
    ///
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/invalidRequest``, before sending, for no entries or more than 10,
    ///   a source that is empty or starts with "aws.", an empty detail type, or more than 256 KB in all; other
    ///   ``AWSError``s when the call fails as a whole (after retries).
    public func putEvents(_ entries: [EventBridgeEntry]) async throws -> EventBridgePutEventsResult {
        let bus = Set(entries.map { $0.eventBusName ?? "default" }).sorted().joined(separator: ",")
        let resource = AWSResource(eventBus: bus)
        func refuse(_ reason: String) -> AWSError { AWSError.invalidRequest(.eventBridge, operation: "PutEvents", reason: reason, resource: resource) }
        guard (1...Self.maximumEntriesPerCall).contains(entries.count) else {
            throw refuse("one PutEvents call takes 1 to \(Self.maximumEntriesPerCall) entries, not \(entries.count); send them in batches")
        }
        for (index, entry) in entries.enumerated() {
            if entry.source.isEmpty { throw refuse("entry \(index + 1) has an empty source") }
            if entry.source.lowercased().hasPrefix("aws.") {
                throw refuse("entry \(index + 1) has source '\(entry.source)'; sources starting with 'aws.' are reserved for AWS services, choose another (e.g. com.example.app)")
            }
            if entry.detailType.isEmpty { throw refuse("entry \(index + 1) has an empty detail type") }
        }
        let size = entries.reduce(0) { $0 + $1.size }
        guard size <= Self.maximumCallSize else {
            throw refuse("the entries total \(size) bytes, over the \(Self.maximumCallSize) bytes of one PutEvents call; send fewer at a time")
        }
        var body = JSONObjectWriter()
        body.raw("Entries", JSONArrayWriter.objects(entries) { entry, item in
            item.string("Source", entry.source)
            item.string("DetailType", entry.detailType)
            item.string("Detail", entry.detail)
            if let name = entry.eventBusName { item.string("EventBusName", name) }
            if !entry.resources.isEmpty { item.raw("Resources", JSONArrayWriter.strings(entry.resources)) }
            // Epoch seconds, as the JSON protocol writes timestamps.
            if let time = entry.time { item.raw("Time", Array(String(format: "%.3f", time.timeIntervalSince1970).utf8)) }
            if let trace = entry.traceHeader { item.string("TraceHeader", trace) }
        })
        struct Response: Decodable {
            struct Entry: Decodable {
                let EventId: String?
                let ErrorCode: String?
                let ErrorMessage: String?
            }
            let FailedEntryCount: Int?
            let Entries: [Entry]?
        }
        let metadata: Logger.Metadata = ["eventbridge.bus": "\(bus)", "eventbridge.entries": "\(entries.count)"]
        let response = try await json.call("PutEvents", body: body.finished(), resource: resource, metadata: metadata)
        let decoded = try json.decode(Response.self, from: response, operation: "PutEvents", resource: resource)
        let requestID = response.header("x-amzn-requestid")
        let results = (decoded.Entries ?? []).map { EventBridgeEntryResult(eventID: $0.EventId, errorCode: $0.ErrorCode, errorMessage: $0.ErrorMessage) }
        guard results.count == entries.count else {
            throw AWSError.invalidResponse(
                .eventBridge, operation: "PutEvents", reason: "\(entries.count) entries sent, \(results.count) results answered",
                requestID: requestID, resource: resource)
        }
        let result = EventBridgePutEventsResult(
            entries: results, failedEntryCount: results.filter { !$0.isAccepted }.count, requestID: requestID)
        if let first = result.failedIndices.first {
            http.logger.debug(
                "PutEvents refused entries",
                metadata: metadata.merging([
                    "aws.service": "EventBridge", "eventbridge.failed_entries": "\(result.failedEntryCount)",
                    "aws.error_code": "\(results[first].errorCode ?? "")", "aws.request_id": "\(requestID ?? "")",
                ]) { $1 })
        }
        return result
    }

    // MARK: Buses, rules and targets

    /// Creates a custom event bus and returns its ARN.
    @discardableResult
    public func createEventBus(name: String) async throws -> String {
        var body = JSONObjectWriter()
        body.string("Name", name)
        struct Response: Decodable { let EventBusArn: String }
        return try await json.call(
            "CreateEventBus", body: body.finished(), resource: AWSResource(eventBus: name), as: Response.self,
            metadata: ["eventbridge.bus": "\(name)"]
        ).EventBusArn
    }

    /// Creates or updates a rule matching `eventPattern` (JSON text) on a bus, enabled; returns the rule's ARN.
    @discardableResult
    public func putRule(name: String, eventPattern: String, eventBusName: String? = nil) async throws -> String {
        var body = JSONObjectWriter()
        body.string("Name", name)
        body.string("EventPattern", eventPattern)
        body.string("State", "ENABLED")
        if let eventBusName { body.string("EventBusName", eventBusName) }
        struct Response: Decodable { let RuleArn: String }
        return try await json.call(
            "PutRule", body: body.finished(), resource: AWSResource(eventBus: eventBusName ?? "default"), as: Response.self,
            metadata: ["eventbridge.bus": "\(eventBusName ?? "default")", "eventbridge.rule": "\(name)"]
        ).RuleArn
    }

    /// Adds targets to a rule; returns the targets that could not be added.
    public func putTargets(rule: String, eventBusName: String? = nil, targets: [EventBridgeTarget]) async throws -> [EventBridgeTargetFailure] {
        var body = JSONObjectWriter()
        body.string("Rule", rule)
        if let eventBusName { body.string("EventBusName", eventBusName) }
        body.raw("Targets", JSONArrayWriter.objects(targets) { target, item in
            item.string("Id", target.id)
            item.string("Arn", target.arn)
        })
        struct Response: Decodable {
            struct Failure: Decodable {
                let TargetId: String?
                let ErrorCode: String?
                let ErrorMessage: String?
            }
            let FailedEntries: [Failure]?
        }
        let decoded = try await json.call(
            "PutTargets", body: body.finished(), resource: AWSResource(eventBus: eventBusName ?? "default"), as: Response.self,
            metadata: ["eventbridge.bus": "\(eventBusName ?? "default")", "eventbridge.rule": "\(rule)"])
        return (decoded.FailedEntries ?? []).map {
            EventBridgeTargetFailure(targetID: $0.TargetId ?? "", errorCode: $0.ErrorCode ?? "", errorMessage: $0.ErrorMessage ?? "")
        }
    }
}
