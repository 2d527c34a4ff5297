import Foundation
import JSONToolkit

extension DynamoDBClient {
    /// Whether an item with this key (raw DynamoDB JSON) exists: a GetItem that reads only the key attributes.
    /// - Parameter consistentRead: true (the default) sees every write acknowledged before the call.
    public func itemExists(table: String, keyJSON: [UInt8], consistentRead: Bool = true) async throws -> Bool {
        let names: [String]
        do {
            names = try RawJSON.objectMembers(keyJSON).map(\.key)
        } catch {
            throw AWSError.invalidRequest(.dynamoDB, operation: "GetItem", reason: "the key is not a JSON object: \(error)", resource: AWSResource(table: table))
        }
        guard !names.isEmpty else {
            throw AWSError.invalidRequest(.dynamoDB, operation: "GetItem", reason: "the key has no attributes", resource: AWSResource(table: table))
        }
        return try await getItem(table: table, keyJSON: keyJSON, consistentRead: consistentRead, projection: names) != nil
    }

    /// Every item of a scan (raw DynamoDB JSON), paging through Scan as the stream is read.
    /// See ``scan(table:limit:exclusiveStartKeyJSON:filter:projection:consistentRead:)`` for the options.
    public func scanAll(
        table: String, filter: DynamoDBExpression? = nil, projection: [String]? = nil, pageSize: Int? = nil, consistentRead: Bool = false
    ) -> AsyncThrowingStream<[UInt8], any Error> {
        let pager = DynamoDBScanPager(
            client: self, table: table, filter: filter, projection: projection, pageSize: pageSize, consistentRead: consistentRead)
        return AsyncThrowingStream { try await pager.next() }
    }
}

/// Pulls Scan pages on demand for ``DynamoDBClient/scanAll(table:filter:projection:pageSize:consistentRead:)``.
actor DynamoDBScanPager {
    private let client: DynamoDBClient
    private let table: String
    private let filter: DynamoDBExpression?
    private let projection: [String]?
    private let pageSize: Int?
    private let consistentRead: Bool
    private var buffer: [[UInt8]] = []
    private var index = 0
    private var startKey: [UInt8]?
    private var finished = false

    init(client: DynamoDBClient, table: String, filter: DynamoDBExpression?, projection: [String]?, pageSize: Int?, consistentRead: Bool) {
        self.client = client
        self.table = table
        self.filter = filter
        self.projection = projection
        self.pageSize = pageSize
        self.consistentRead = consistentRead
    }

    func next() async throws -> [UInt8]? {
        while index == buffer.count {
            if finished { return nil }
            let page = try await client.scan(
                table: table, limit: pageSize, exclusiveStartKeyJSON: startKey, filter: filter, projection: projection,
                consistentRead: consistentRead)
            buffer = page.items
            index = 0
            startKey = page.lastEvaluatedKey
            finished = startKey == nil
        }
        defer { index += 1 }
        return buffer[index]
    }
}
