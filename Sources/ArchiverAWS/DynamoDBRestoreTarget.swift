import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit

/// Puts archived items back into a DynamoDB table (`--to dynamodb:<table>`).
///
/// Each item is one PutItem of its whole image, conditional on `attribute_not_exists` of the key attributes
/// unless overwriting is asked for, so an item that is in the table is never replaced by accident. Items go
/// in concurrently (at most ``concurrency`` at a time). A dry run reads each key (GetItem) and writes nothing.
public struct DynamoDBRestoreTarget: RestoreTarget {
    /// The table.
    public let table: String
    /// Most requests in flight.
    public var concurrency = 16
    private let client: DynamoDBClient

    public init(table: String, client: DynamoDBClient) {
        self.table = table
        self.client = client
    }

    public var location: String { "dynamodb:\(table)" }

    public func restore(_ items: [RestoreItem], overwrite: Bool, dryRun: Bool) async throws -> [RestoreOutcome] {
        let keyNames: [String]
        do {
            keyNames = DynamoDBStreamsSource.keyOrder(try await client.describeTable(table).keySchema)
        } catch let error as AWSError where error.kind == .resourceNotFound {
            throw RestoreError.unusableTarget("there is no DynamoDB table \(table); create it (with the same key schema) before restoring into it")
        }
        var outcomes = [RestoreOutcome](repeating: .failed("not attempted"), count: items.count)
        let client = self.client
        let table = self.table
        let limit = max(1, concurrency)
        try await withThrowingTaskGroup(of: (Int, RestoreOutcome).self) { group in
            var nextIndex = 0
            func addNext() {
                guard nextIndex < items.count else { return }
                let index = nextIndex
                let item = items[index]
                nextIndex += 1
                group.addTask {
                    (index, await Self.restoreOne(item, keyNames: keyNames, table: table, client: client, overwrite: overwrite, dryRun: dryRun))
                }
            }
            for _ in 0..<limit { addNext() }
            while let (index, outcome) = try await group.next() {
                outcomes[index] = outcome
                addNext()
            }
        }
        return outcomes
    }

    private static func restoreOne(
        _ item: RestoreItem, keyNames: [String], table: String, client: DynamoDBClient, overwrite: Bool, dryRun: Bool
    ) async -> RestoreOutcome {
        let names = keyNames.isEmpty ? item.keys.map(\.name) : keyNames
        let description = describeKey(item, names: names)
        let keyAttributes = names.compactMap { name in item.item.attributes.first { $0.0 == name } }
        guard keyAttributes.count == names.count else {
            let missing = names.filter { name in !item.item.attributes.contains { $0.0 == name } }
            return .failed("item \(description): it has no value for the key attribute\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) of \(table)")
        }
        do {
            if dryRun {
                if !overwrite {
                    let keyJSON = Array(Item(keyAttributes).dynamoJSON.serialized.utf8)
                    if try await client.getItem(table: table, keyJSON: keyJSON) != nil {
                        return .exists("item \(description) exists in \(table); pass --overwrite to replace it")
                    }
                }
                return .restored
            }
            let itemJSON = Array(item.item.dynamoJSON.serialized.utf8)
            try await client.putItem(table: table, itemJSON: itemJSON, condition: overwrite ? .none : .attributeNotExists(names))
            return .restored
        } catch let error as AWSError where error.kind == .conditionalCheckFailed {
            return .exists("item \(description) exists in \(table); pass --overwrite to replace it")
        } catch {
            return .failed("item \(description): \(error)")
        }
    }

    private static func describeKey(_ item: RestoreItem, names: [String]) -> String {
        if !item.keys.isEmpty { return item.keyDescription }
        return names.map { name in
            let value = item.item.attributes.first { $0.0 == name }.map { "\($0.1.dynamoJSON.serialized)" } ?? "?"
            return "\(name)=\(value)"
        }.joined(separator: ", ")
    }
}
