import Foundation
import JSONToolkit
import Logging

/// A DynamoDB client over the JSON 1.0 protocol (`X-Amz-Target: DynamoDB_20120810.<Op>`).
///
/// Items travel as raw DynamoDB JSON bytes (`{"id": {"S": "a"}, "n": {"N": "1.5"}}`), spliced into request
/// bodies unchanged and cut out of responses unchanged: numbers are never turned into `Double`s.
public struct DynamoDBClient: Sendable {
    private let json: AWSJSONProtocol

    /// The HTTP layer: signing, retries, logging.
    public var http: AWSHTTPClient { json.http }
    /// The DynamoDB endpoint.
    public var endpoint: URL { json.endpoint }

    /// Creates a client over an HTTP layer.
    public init(http: AWSHTTPClient, endpoint: URL) {
        json = AWSJSONProtocol(http: http, service: .dynamoDB, endpoint: endpoint, targetPrefix: "DynamoDB_20120810")
    }

    /// Creates a client from resolved settings.
    public init(
        settings: AWSSettings, transport: any HTTPTransport = NIOHTTPTransport.shared(), retryPolicy: RetryPolicy = .standard,
        logger: Logger = Logger(label: "archiver.aws.dynamodb")
    ) {
        self.init(
            http: AWSHTTPClient(settings: settings, transport: transport, retryPolicy: retryPolicy, logger: logger),
            endpoint: settings.endpoint(for: .dynamoDB))
    }

    private func meta(_ table: String) -> Logger.Metadata { ["dynamodb.table": "\(table)"] }

    // MARK: Tables

    /// Describes a table: key schema, stream settings and latest stream ARN.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/resourceNotFound`` when there is no such table.
    public func describeTable(_ table: String) async throws -> DynamoDBTableDescription {
        var body = JSONObjectWriter()
        body.string("TableName", table)
        struct Response: Decodable { let Table: DynamoDBTableDescription }
        return try await json.call("DescribeTable", body: body.finished(), resource: AWSResource(table: table), as: Response.self, metadata: meta(table)).Table
    }

    // MARK: Items

    /// Writes an item given as raw DynamoDB JSON, spliced into the request unchanged.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/conditionalCheckFailed`` when `condition` is not met.
    public func putItem(table: String, itemJSON: [UInt8], condition: DynamoDBPutCondition = .none) async throws {
        try checkObject(itemJSON, operation: "PutItem", table: table, what: "item")
        var body = JSONObjectWriter()
        body.string("TableName", table)
        body.raw("Item", itemJSON)
        if case .attributeNotExists(let names) = condition, !names.isEmpty {
            let placeholders = names.indices.map { "#k\($0)" }
            body.string("ConditionExpression", placeholders.map { "attribute_not_exists(\($0))" }.joined(separator: " AND "))
            body.stringMap("ExpressionAttributeNames", Array(zip(placeholders, names)))
        }
        _ = try await json.call("PutItem", body: body.finished(), resource: AWSResource(table: table), metadata: meta(table))
    }

    /// Reads an item by its key (raw DynamoDB JSON); returns the item's raw JSON, or nil when there is none.
    /// - Parameter projection: only these top-level attributes (`ProjectionExpression`); nil for the whole item.
    public func getItem(table: String, keyJSON: [UInt8], consistentRead: Bool = true, projection: [String]? = nil) async throws -> [UInt8]? {
        try checkObject(keyJSON, operation: "GetItem", table: table, what: "key")
        var body = JSONObjectWriter()
        body.string("TableName", table)
        body.raw("Key", keyJSON)
        body.bool("ConsistentRead", consistentRead)
        var expressions = DynamoDBExpressionWriter(operation: "GetItem", table: table)
        if let projection { try expressions.projection(projection, into: &body) }
        expressions.finish(into: &body)
        let response = try await json.call("GetItem", body: body.finished(), resource: AWSResource(table: table), metadata: meta(table))
        let item = try rawMember("Item", of: response, operation: "GetItem", table: table)
        return item.map { Array(response.body[$0]) }
    }

    /// Deletes an item by its key (raw DynamoDB JSON); deleting a missing item succeeds (unless a condition says otherwise).
    ///
    /// - Parameters:
    ///   - condition: delete only if this holds for the stored item (`ConditionExpression`); e.g.
    ///     `attribute_exists(#k) AND #t < :now` to delete an item only while it is still expired.
    ///   - returnOldItem: return the deleted item's raw JSON (`ReturnValues: ALL_OLD`); nil when there was none.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/conditionalCheckFailed`` when the condition does not hold; nothing is deleted.
    @discardableResult
    public func deleteItem(table: String, keyJSON: [UInt8], condition: DynamoDBExpression? = nil, returnOldItem: Bool = false) async throws -> [UInt8]? {
        try checkObject(keyJSON, operation: "DeleteItem", table: table, what: "key")
        var body = JSONObjectWriter()
        body.string("TableName", table)
        body.raw("Key", keyJSON)
        var expressions = DynamoDBExpressionWriter(operation: "DeleteItem", table: table)
        if let condition { try expressions.expression("ConditionExpression", condition, into: &body) }
        expressions.finish(into: &body)
        if returnOldItem { body.string("ReturnValues", "ALL_OLD") }
        let response = try await json.call("DeleteItem", body: body.finished(), resource: AWSResource(table: table), metadata: meta(table))
        guard returnOldItem else { return nil }
        return try rawMember("Attributes", of: response, operation: "DeleteItem", table: table).map { Array(response.body[$0]) }
    }

    /// Reads one page of a table scan, items as raw JSON.
    ///
    /// With a filter, a page may hold no items and still have a ``DynamoDBScanPage/lastEvaluatedKey``: keep paging
    /// until that is nil.
    /// - Parameters:
    ///   - limit: the most items read (before filtering) in this page.
    ///   - exclusiveStartKeyJSON: the previous page's ``DynamoDBScanPage/lastEvaluatedKey``.
    ///   - filter: keep only items for which this holds (`FilterExpression`).
    ///   - projection: only these top-level attributes (`ProjectionExpression`).
    ///   - consistentRead: a strongly consistent scan.
    public func scan(
        table: String, limit: Int? = nil, exclusiveStartKeyJSON: [UInt8]? = nil, filter: DynamoDBExpression? = nil,
        projection: [String]? = nil, consistentRead: Bool = false
    ) async throws -> DynamoDBScanPage {
        var body = JSONObjectWriter()
        body.string("TableName", table)
        if let limit { body.int("Limit", limit) }
        if let exclusiveStartKeyJSON {
            try checkObject(exclusiveStartKeyJSON, operation: "Scan", table: table, what: "start key")
            body.raw("ExclusiveStartKey", exclusiveStartKeyJSON)
        }
        var expressions = DynamoDBExpressionWriter(operation: "Scan", table: table)
        if let filter { try expressions.expression("FilterExpression", filter, into: &body) }
        if let projection { try expressions.projection(projection, into: &body) }
        expressions.finish(into: &body)
        if consistentRead { body.bool("ConsistentRead", true) }
        let response = try await json.call("Scan", body: body.finished(), resource: AWSResource(table: table), metadata: meta(table))
        do {
            var items: [[UInt8]] = []
            if let range = try RawJSON.member("Items", of: response.body) {
                items = try RawJSON.arrayElements(response.body, in: range).map { Array(response.body[$0]) }
            }
            let last = try RawJSON.member("LastEvaluatedKey", of: response.body).map { Array(response.body[$0]) }
            let scanned = try RawJSON.member("ScannedCount", of: response.body).flatMap { Int(String(decoding: response.body[$0], as: UTF8.self)) }
            return DynamoDBScanPage(items: items, lastEvaluatedKey: last, scannedCount: scanned ?? items.count)
        } catch {
            throw AWSError.invalidResponse(.dynamoDB, operation: "Scan", reason: "\(error)", resource: AWSResource(table: table))
        }
    }

    // MARK: Helpers

    /// Calls any DynamoDB operation with a JSON body, for operations this client does not wrap (tests create
    /// and delete tables with it). Returns the successful response.
    package func call(_ operation: String, body: [UInt8], table: String) async throws -> HTTPResponse {
        try await json.call(operation, body: body, resource: AWSResource(table: table), metadata: meta(table))
    }

    private func checkObject(_ bytes: [UInt8], operation: String, table: String, what: String) throws {
        do {
            try RawJSON.validateObject(bytes)
        } catch {
            throw AWSError.invalidRequest(.dynamoDB, operation: operation, reason: "the \(what) is not a JSON object: \(error)", resource: AWSResource(table: table))
        }
    }

    private func rawMember(_ name: String, of response: HTTPResponse, operation: String, table: String) throws -> Range<Int>? {
        do {
            return try RawJSON.member(name, of: response.body)
        } catch {
            throw AWSError.invalidResponse(.dynamoDB, operation: operation, reason: "\(error)", resource: AWSResource(table: table))
        }
    }
}
