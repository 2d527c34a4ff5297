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
        Pager<[UInt8], [UInt8]> { startKey in
            let page = try await self.scan(
                table: table, limit: pageSize, exclusiveStartKeyJSON: startKey, filter: filter, projection: projection,
                consistentRead: consistentRead)
            return (page.items, page.lastEvaluatedKey)
        }.stream
    }
}
