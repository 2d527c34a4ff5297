import ArchiverAWS
import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// A DynamoDB table on moto keyed by `uploadSessionId` (S), as a cleanup owner table.
struct DynamoDBOwnerFixture: OwnerLookupFixture {
    let dynamo: DynamoDBClient
    let table: String

    init(keyType: String = "S") async throws {
        dynamo = DynamoDBClient(settings: try await MotoServer.shared().settings())
        table = MotoServer.uniqueName("owners")
        try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "uploadSessionId", keyType: "HASH")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "uploadSessionId", attributeType: keyType)])
    }

    static func key(_ id: String, type: String = "S") -> [UInt8] {
        var value = JSONObjectWriter()
        value.string(type, id)
        var key = JSONObjectWriter()
        key.raw("uploadSessionId", value.finished())
        return key.finished()
    }

    func insert(_ ids: [String]) async throws {
        for id in ids {
            var item = JSONObjectWriter()
            item.raw("uploadSessionId", Array(Self.key(id).dropFirst(#"{"uploadSessionId":"#.utf8.count).dropLast()))
            item.raw("status", Array(#"{"S":"created"}"#.utf8))
            try await dynamo.putItem(table: table, itemJSON: item.finished())
        }
    }

    func delete(_ id: String) async throws {
        try await dynamo.deleteItem(table: table, keyJSON: Self.key(id))
    }

    func lookup() async throws -> any OwnerLookup { DynamoDBOwnerLookup(table: table, attribute: nil, client: dynamo) }

    func missingTable() async throws -> (lookup: any OwnerLookup, name: String) {
        let name = MotoServer.uniqueName("no-such-owners")
        return (DynamoDBOwnerLookup(table: name, attribute: "uploadSessionId", client: dynamo), name)
    }
}

@Suite("DynamoDB owner lookups against moto")
struct DynamoDBOwnerLookupTests {
    @Test(arguments: OwnerLookupConformance.Case.allCases)
    func conformsToTheOwnerLookupContract(_ contract: OwnerLookupConformance.Case) async throws {
        try await OwnerLookupConformance.check(contract, try await DynamoDBOwnerFixture())
    }

    @Test func aNumberKeyTakesNumbersAndRefusesText() async throws {
        let f = try await DynamoDBOwnerFixture(keyType: "N")
        try await f.dynamo.putItem(table: f.table, itemJSON: Array(#"{"uploadSessionId":{"N":"42"}}"#.utf8))
        let lookup = DynamoDBOwnerLookup(table: f.table, attribute: nil, client: f.dynamo)
        #expect(try await lookup.ownerExists("42"))
        #expect(try await lookup.ownerExists("43") == false)
        let text = await #expect(throws: OwnerLookupError.self) { try await lookup.ownerExists("abc") }
        #expect(text?.description.contains("not a number") == true)
    }

    @Test func aWrongKeyOrACompositeKeyIsRefusedWithWhatToWrite() async throws {
        let f = try await DynamoDBOwnerFixture()
        let wrong = DynamoDBOwnerLookup(table: f.table, attribute: "sessionId", client: f.dynamo)
        let error = await #expect(throws: OwnerLookupError.self) { try await wrong.ownerExists("a") }
        #expect(error?.description.contains("dynamodb:\(f.table)#uploadSessionId") == true, "\(String(describing: error))")

        let composite = MotoServer.uniqueName("owners-composite")
        try await f.dynamo.createTable(
            composite, keySchema: [DynamoDBKeyElement(attributeName: "PK", keyType: "HASH"), DynamoDBKeyElement(attributeName: "SK", keyType: "RANGE")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S"), DynamoDBAttributeDefinition(attributeName: "SK", attributeType: "S")])
        let both = DynamoDBOwnerLookup(table: composite, attribute: nil, client: f.dynamo)
        let keyed = await #expect(throws: OwnerLookupError.self) { try await both.ownerExists("a") }
        #expect(keyed?.description.contains("PK and SK") == true, "\(String(describing: keyed))")
    }

    /// A missing table is asked about once; the answer is kept for the run (thousands of objects must not each cost a call).
    @Test func aMissingTableIsAskedAboutOnce() async throws {
        let server = try await MotoServer.shared()
        let proxy = try FaultProxy(frontOf: server)
        defer { proxy.stop() }
        let lookup = DynamoDBOwnerLookup(table: MotoServer.uniqueName("gone"), attribute: nil, client: DynamoDBClient(settings: proxy.settings()))
        for id in ["a", "b", "c", "d"] {
            await #expect(throws: OwnerLookupError.self) { try await lookup.ownerExists(id) }
        }
        let stats = try await proxy.stats()
        #expect(stats.requests == 1, "\(stats.byRequest)")
    }
}
