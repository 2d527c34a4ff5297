import AWSClients
import Foundation
import JSONToolkit
import Testing
import TestSupport

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func text(_ b: [UInt8]?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }

/// The string value of attribute `name` (`{"S": …}` or `{"N": …}`) of a raw item.
private func value(_ name: String, of item: [UInt8]) throws -> String? {
    guard let attribute = try RawJSON.member(name, of: item) else { return nil }
    let members = try RawJSON.objectMembers(item, in: attribute)
    guard let first = members.first else { return nil }
    return try RawJSON.string(item, in: first.value)
}

@Suite("DynamoDB conditions, filters and projections against moto")
struct DynamoDBExpressionMotoTests {
    static let big = "12345678901234567890123456789012345678"

    @Test func conditionalDeleteRemovesOnlyWhileTheConditionHolds() async throws {
        let f = try await DynamoDBFixture("conddelete")
        let key = bytes(#"{"pk":{"S":"session#1"},"sk":{"N":"1"}}"#)
        try await f.dynamo.putItem(table: f.table, itemJSON: bytes(#"{"pk":{"S":"session#1"},"sk":{"N":"1"},"expires":{"N":"2000"},"total":{"N":"\#(Self.big)"}}"#))
        // Still valid at t=1000: the delete is refused and the item stays.
        let notYet = DynamoDBExpression(
            "attribute_exists(#pk) AND #exp < :now", names: ["#pk": "pk", "#exp": "expires"], valuesJSON: bytes(#"{":now":{"N":"1000"}}"#))
        let refused = await #expect(throws: AWSError.self) { try await f.dynamo.deleteItem(table: f.table, keyJSON: key, condition: notYet) }
        #expect(refused?.kind == .conditionalCheckFailed)
        #expect(refused?.code == "ConditionalCheckFailedException")
        #expect(refused?.attempts == 1)
        #expect(refused?.description.contains("the condition was not met for the item in table '\(f.table)'") == true)
        #expect(try await f.dynamo.itemExists(table: f.table, keyJSON: key))

        // Expired at t=3000: deleted, and the old item comes back byte-exact.
        let expired = DynamoDBExpression(
            "attribute_exists(#pk) AND #exp < :now", names: ["#pk": "pk", "#exp": "expires"], valuesJSON: bytes(#"{":now":{"N":"3000"}}"#))
        let old = try #require(try await f.dynamo.deleteItem(table: f.table, keyJSON: key, condition: expired, returnOldItem: true))
        #expect(try value("total", of: old) == Self.big)
        #expect(try await f.dynamo.itemExists(table: f.table, keyJSON: key) == false)
        #expect(try await f.dynamo.getItem(table: f.table, keyJSON: key) == nil)

        // Deleting it again under attribute_exists fails: nothing to delete.
        let gone = await #expect(throws: AWSError.self) { try await f.dynamo.deleteItem(table: f.table, keyJSON: key, condition: expired) }
        #expect(gone?.kind == .conditionalCheckFailed)
        // Without a condition, deleting a missing item succeeds and returns nothing.
        #expect(try await f.dynamo.deleteItem(table: f.table, keyJSON: key, returnOldItem: true) == nil)
    }

    @Test func getItemProjectsAttributes() async throws {
        let f = try await DynamoDBFixture("projection")
        let key = bytes(#"{"pk":{"S":"user#7"},"sk":{"N":"7"}}"#)
        try await f.dynamo.putItem(
            table: f.table, itemJSON: bytes(#"{"pk":{"S":"user#7"},"sk":{"N":"7"},"name":{"S":"Ada"},"size":{"N":"\#(Self.big)"},"secret":{"S":"x"}}"#))
        // "name" and "size" are DynamoDB reserved words: the projection goes through placeholders.
        let projected = try #require(try await f.dynamo.getItem(table: f.table, keyJSON: key, projection: ["name", "size"]))
        let names = try RawJSON.objectMembers(projected).map(\.key)
        #expect(Set(names) == ["name", "size"])
        #expect(try value("size", of: projected) == Self.big)
        #expect(try await f.dynamo.itemExists(table: f.table, keyJSON: bytes(#"{"pk":{"S":"user#8"},"sk":{"N":"7"}}"#)) == false)
        let empty = await #expect(throws: AWSError.self) { try await f.dynamo.getItem(table: f.table, keyJSON: key, projection: []) }
        #expect(empty?.kind == .invalidRequest)
    }

    @Test func scanFiltersProjectsAndPages() async throws {
        let f = try await DynamoDBFixture("scanfilter")
        for i in 0..<25 {
            let kind = i % 3 == 0 ? "ttl" : "manual"
            try await f.dynamo.putItem(
                table: f.table,
                itemJSON: bytes(#"{"pk":{"S":"item#\#(i)"},"sk":{"N":"\#(i)"},"kind":{"S":"\#(kind)"},"expires":{"N":"\#(1000 + i)"},"blob":{"S":"\#(String(repeating: "x", count: 50))"}}"#))
        }
        let filter = DynamoDBExpression("#k = :ttl AND #e >= :from", names: ["#k": "kind", "#e": "expires"], valuesJSON: bytes(#"{":ttl":{"S":"ttl"},":from":{"N":"1003"}}"#))
        // Small pages: some hold no match but still continue.
        var matched: [[UInt8]] = []
        var start: [UInt8]?
        var pages = 0
        var scanned = 0
        repeat {
            let page = try await f.dynamo.scan(table: f.table, limit: 4, exclusiveStartKeyJSON: start, filter: filter, projection: ["pk", "expires"])
            matched += page.items
            scanned += page.scannedCount
            start = page.lastEvaluatedKey
            pages += 1
        } while start != nil && pages < 50
        #expect(pages >= 7)
        #expect(scanned == 25)
        let expected = Set((0..<25).filter { $0 % 3 == 0 && $0 >= 3 }.map { "item#\($0)" })
        #expect(Set(try matched.compactMap { try value("pk", of: $0) }) == expected)
        #expect(try matched.allSatisfy { Set(try RawJSON.objectMembers($0).map(\.key)) == ["pk", "expires"] })

        var streamed: [String] = []
        for try await item in f.dynamo.scanAll(table: f.table, filter: filter, projection: ["pk"], pageSize: 5) {
            streamed.append(try #require(try value("pk", of: item)))
        }
        #expect(Set(streamed) == expected)
        #expect(streamed.count == expected.count)
    }

    @Test func badExpressionsAreRefusedBeforeSending() async throws {
        let transport = TransportDouble { _, _ in HTTPResponse(status: 500) }
        let http = AWSHTTPClient(credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "b"), region: "us-east-1", transport: transport)
        let dynamo = DynamoDBClient(http: http, endpoint: URL(string: "http://127.0.0.1:9")!)
        let key = bytes(#"{"pk":{"S":"a"}}"#)
        let badValues = await #expect(throws: AWSError.self) {
            try await dynamo.deleteItem(table: "t", keyJSON: key, condition: DynamoDBExpression("#a = :v", names: ["#a": "a"], valuesJSON: bytes("{:v")))
        }
        #expect(badValues?.kind == .invalidRequest)
        #expect(badValues?.description.contains("not a JSON object") == true)
        let badName = await #expect(throws: AWSError.self) {
            try await dynamo.deleteItem(table: "t", keyJSON: key, condition: DynamoDBExpression("a = b", names: ["a": "a"]))
        }
        #expect(badName?.description.contains("must start with '#'") == true)
        let clash = await #expect(throws: AWSError.self) {
            try await dynamo.scan(table: "t", filter: DynamoDBExpression("#proj0 = :v", names: ["#proj0": "other"], valuesJSON: bytes(#"{":v":{"S":"x"}}"#)), projection: ["pk"])
        }
        #expect(clash?.description.contains("stands for both") == true)
        #expect(transport.requests.isEmpty)
    }

    @Test func conditionalDeleteRequestShape() async throws {
        let transport = TransportDouble { _, _ in HTTPResponse(status: 200, body: bytes(#"{"Attributes":{"pk":{"S":"a"},"n":{"N":"\#(Self.big)"}}}"#)) }
        let http = AWSHTTPClient(credentials: AWSCredentials(accessKeyID: "a", secretAccessKey: "b"), region: "us-east-1", transport: transport)
        let dynamo = DynamoDBClient(http: http, endpoint: URL(string: "http://127.0.0.1:9")!)
        let old = try await dynamo.deleteItem(
            table: "t", keyJSON: bytes(#"{"pk":{"S":"a"}}"#),
            condition: DynamoDBExpression("#t < :now", names: ["#t": "ttl"], valuesJSON: bytes(#"{":now":{"N":"\#(Self.big)"}}"#)), returnOldItem: true)
        #expect(text(old) == #"{"pk":{"S":"a"},"n":{"N":"\#(Self.big)"}}"#)
        let sent = try #require(text(transport.requests.first?.body))
        #expect(sent == ##"{"TableName":"t","Key":{"pk":{"S":"a"}},"ConditionExpression":"#t < :now","ExpressionAttributeNames":{"#t":"ttl"},"ExpressionAttributeValues":{":now":{"N":"\##(Self.big)"}},"ReturnValues":"ALL_OLD"}"##)
    }
}
