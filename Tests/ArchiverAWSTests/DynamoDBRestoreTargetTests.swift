import ArchiverAWS
import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite struct DynamoDBRestoreTargetTests {
    func makeTable(_ dynamo: DynamoDBClient) async throws -> String {
        let table = MotoServer.uniqueName("restore")
        try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "PK", keyType: "HASH"), DynamoDBKeyElement(attributeName: "SK", keyType: "RANGE")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S"), DynamoDBAttributeDefinition(attributeName: "SK", attributeType: "N")])
        return table
    }

    func item(_ n: Int, value: String = "v") -> RestoreItem {
        RestoreItem(
            archiveKey: "2024/01/15/k\(n)",
            keys: [KeyAttribute(name: "PK", type: .string, value: "USER#\(n)"), KeyAttribute(name: "SK", type: .number, value: "\(n)")],
            item: Item([("PK", .s("USER#\(n)")), ("SK", .n("\(n)")), ("big", .n("12345678901234567890123456789012345678")), ("value", .s(value))]))
    }

    @Test func putsManyItemsBackAndRefusesToReplaceThemUnlessAsked() async throws {
        let server = try await MotoServer.shared()
        let dynamo = DynamoDBClient(settings: server.settings())
        let table = try await makeTable(dynamo)
        let target = DynamoDBRestoreTarget(table: table, client: dynamo)
        #expect(target.location == "dynamodb:\(table)")
        let items = (0..<60).map { item($0) }

        // A dry run checks and writes nothing.
        let dry = try await target.restore(items, overwrite: false, dryRun: true)
        #expect(dry == Array(repeating: .restored, count: items.count))
        #expect(try await dynamo.scan(table: table).items.isEmpty)

        let first = try await target.restore(items, overwrite: false, dryRun: false)
        #expect(first == Array(repeating: .restored, count: items.count))
        let stored = try #require(try await dynamo.getItem(table: table, keyJSON: Array(#"{"PK":{"S":"USER#7"},"SK":{"N":"7"}}"#.utf8)))
        #expect(String(decoding: stored, as: UTF8.self).contains("12345678901234567890123456789012345678"))

        // Again: every item is there, said in order, naming its key.
        let changed = items.map { item(Int($0.keys[1].value)!, value: "new") }
        let second = try await target.restore(changed, overwrite: false, dryRun: false)
        #expect(second[7] == .exists("item PK=USER#7, SK=7 exists in \(table); pass --overwrite to replace it"))
        #expect(second.allSatisfy { if case .exists = $0 { true } else { false } })
        let dryAgain = try await target.restore(changed, overwrite: false, dryRun: true)
        #expect(dryAgain == second)
        let unchanged = try #require(try await dynamo.getItem(table: table, keyJSON: Array(#"{"PK":{"S":"USER#7"},"SK":{"N":"7"}}"#.utf8)))
        #expect(String(decoding: unchanged, as: UTF8.self).contains("\"v\""))

        // --overwrite replaces them.
        let third = try await target.restore(changed, overwrite: true, dryRun: false)
        #expect(third == Array(repeating: .restored, count: items.count))
        let replaced = try #require(try await dynamo.getItem(table: table, keyJSON: Array(#"{"PK":{"S":"USER#7"},"SK":{"N":"7"}}"#.utf8)))
        #expect(String(decoding: replaced, as: UTF8.self).contains("\"new\""))
    }

    @Test func anItemMissingAKeyAttributeFailsAlone() async throws {
        let server = try await MotoServer.shared()
        let dynamo = DynamoDBClient(settings: server.settings())
        let table = try await makeTable(dynamo)
        let target = DynamoDBRestoreTarget(table: table, client: dynamo)
        let broken = RestoreItem(archiveKey: "k", keys: [KeyAttribute(name: "PK", type: .string, value: "X")], item: Item([("PK", .s("X"))]))
        let outcomes = try await target.restore([item(1), broken], overwrite: false, dryRun: false)
        #expect(outcomes[0] == .restored)
        guard case .failed(let message) = outcomes[1] else {
            Issue.record("expected a failure, got \(outcomes[1])")
            return
        }
        #expect(message.contains("SK"))
    }
}
