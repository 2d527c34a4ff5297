import AWSClients
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// Clients and a fresh table with a NEW_AND_OLD_IMAGES stream on the shared moto server.
struct DynamoDBFixture {
    let dynamo: DynamoDBClient
    let streams: DynamoDBStreamsClient
    let table: String

    init(_ prefix: String) async throws {
        let server = try await MotoServer.shared()
        let settings = server.settings()
        dynamo = DynamoDBClient(settings: settings, retryPolicy: RetryPolicy(maxAttempts: 2))
        streams = DynamoDBStreamsClient(settings: settings, retryPolicy: RetryPolicy(maxAttempts: 2))
        table = MotoServer.uniqueName(prefix)
        try await dynamo.createTable(
            table,
            keySchema: [.init(attributeName: "pk", keyType: "HASH"), .init(attributeName: "sk", keyType: "RANGE")],
            attributeDefinitions: [.init(attributeName: "pk", attributeType: "S"), .init(attributeName: "sk", attributeType: "N")],
            streamViewType: "NEW_AND_OLD_IMAGES")
    }
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
private func text(_ b: [UInt8]?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }

@Suite("DynamoDB and DynamoDB Streams against moto")
struct DynamoDBMotoTests {
    @Test func describeTableShowsKeysAndStream() async throws {
        let f = try await DynamoDBFixture("describe")
        let table = try await f.dynamo.describeTable(f.table)
        #expect(table.tableName == f.table)
        #expect(table.keyAttributeNames == ["pk", "sk"])
        #expect(table.streamSpecification == DynamoDBStreamSpecification(streamEnabled: true, streamViewType: "NEW_AND_OLD_IMAGES"))
        #expect(table.latestStreamARN?.contains(f.table) == true)
        let missing = await #expect(throws: AWSError.self) { try await f.dynamo.describeTable(f.table + "-missing") }
        #expect(missing?.kind == .resourceNotFound)
        #expect(missing?.description.contains("table '\(f.table)-missing' not found") == true)
        try await f.dynamo.updateTimeToLive(table: f.table, attribute: "expires_at", enabled: true)
    }

    @Test func thirtyEightDigitNumberSurvivesPutAndGet() async throws {
        let f = try await DynamoDBFixture("numbers")
        let big = "12345678901234567890123456789012345678"
        let small = "0.00000000000000000000000000000000000123"
        let item = #"{"pk":{"S":"n#1"},"sk":{"N":"1"},"big":{"N":"\#(big)"},"neg":{"N":"-\#(big)"},"small":{"N":"\#(small)"},"set":{"NS":["\#(big)","1"]},"s":{"S":"é \"quoted\" \\ / \n"}}"#
        try await f.dynamo.putItem(table: f.table, itemJSON: bytes(item))
        let back = try #require(text(try await f.dynamo.getItem(table: f.table, keyJSON: bytes(#"{"pk":{"S":"n#1"},"sk":{"N":"1"}}"#))))
        #expect(back.contains(#""N":"\#(big)""#) || back.contains(#""N": "\#(big)""#))
        #expect(back.contains("-\(big)"))
        #expect(back.contains(small) || back.contains("1.23E-36") == false)
        let members = try RawJSON.objectMembers(bytes(back))
        let bigValue = try #require(members.first { $0.key == "big" })
        let bigBytes = Array(bytes(back)[bigValue.value])
        let inner = try #require(try RawJSON.member("N", of: bigBytes))
        #expect(try RawJSON.string(bigBytes, in: inner) == big)
        #expect(try await f.dynamo.getItem(table: f.table, keyJSON: bytes(#"{"pk":{"S":"none"},"sk":{"N":"1"}}"#)) == nil)
    }

    @Test func conditionalPutIsRefusedWhenTheItemExists() async throws {
        let f = try await DynamoDBFixture("conditional")
        let item = bytes(#"{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"first"}}"#)
        try await f.dynamo.putItem(table: f.table, itemJSON: item, condition: .attributeNotExists(["pk", "sk"]))
        let error = await #expect(throws: AWSError.self) {
            try await f.dynamo.putItem(
                table: f.table, itemJSON: bytes(#"{"pk":{"S":"a"},"sk":{"N":"1"},"v":{"S":"second"}}"#), condition: .attributeNotExists(["pk", "sk"]))
        }
        #expect(error?.kind == .conditionalCheckFailed)
        #expect(error?.attempts == 1)
        let stored = try #require(text(try await f.dynamo.getItem(table: f.table, keyJSON: bytes(#"{"pk":{"S":"a"},"sk":{"N":"1"}}"#))))
        #expect(stored.contains("first"))
        let page = try await f.dynamo.scan(table: f.table, limit: 10)
        #expect(page.items.count == 1)
    }

    @Test func streamRecordsIncludeTheRemoveWithItsOldImage() async throws {
        let f = try await DynamoDBFixture("stream")
        let key = #""pk":{"S":"order#1"},"sk":{"N":"7"}"#
        try await f.dynamo.putItem(table: f.table, itemJSON: bytes("{\(key),\"status\":{\"S\":\"new\"},\"total\":{\"N\":\"99999999999999999999999999999999999999\"}}"))
        try await f.dynamo.putItem(table: f.table, itemJSON: bytes("{\(key),\"status\":{\"S\":\"shipped\"},\"total\":{\"N\":\"99999999999999999999999999999999999999\"}}"))
        try await f.dynamo.deleteItem(table: f.table, keyJSON: bytes("{\(key)}"))

        let arn = try #require(try await f.dynamo.describeTable(f.table).latestStreamARN)
        let listed = try await f.streams.listStreams(table: f.table)
        #expect(listed.map(\.streamARN) == [arn])
        let description = try await f.streams.describeStreamAllShards(arn: arn)
        #expect(description.streamViewType == "NEW_AND_OLD_IMAGES")
        #expect(description.keySchema.count == 2)
        let shard = try #require(description.shards.first)
        #expect(shard.startingSequenceNumber != nil)

        var iterator: String? = try await f.streams.getShardIterator(streamARN: arn, shardID: shard.shardID, position: .trimHorizon)
        var records: [[UInt8]] = []
        var calls = 0
        while let current = iterator, calls < 5 {
            let result = try await f.streams.getRecords(iterator: current, limit: 100)
            let ranges = try result.recordRanges()
            records += ranges.map { Array(result.body[$0]) }
            iterator = ranges.isEmpty ? nil : result.nextShardIterator
            calls += 1
        }
        let events = try records.map { record -> String in
            let name = try #require(try RawJSON.member("eventName", of: record))
            return try RawJSON.string(record, in: name)
        }
        #expect(events == ["INSERT", "MODIFY", "REMOVE"])
        let remove = try #require(records.last)
        let dynamodb = try #require(try RawJSON.member("dynamodb", of: remove))
        let oldImage = try #require(try RawJSON.member("OldImage", of: remove, in: dynamodb))
        let old = String(decoding: remove[oldImage], as: UTF8.self)
        #expect(old.contains("shipped"))
        #expect(old.contains("99999999999999999999999999999999999999"))
        #expect(try RawJSON.member("NewImage", of: remove, in: dynamodb) == nil)

        // Later positions.
        let first = try #require(try RawJSON.member("dynamodb", of: records[0]))
        let seqRange = try #require(try RawJSON.member("SequenceNumber", of: records[0], in: first))
        let sequence = try RawJSON.string(records[0], in: seqRange)
        let after = try await f.streams.getShardIterator(streamARN: arn, shardID: shard.shardID, position: .afterSequenceNumber(sequence))
        let rest = try await f.streams.getRecords(iterator: after)
        #expect(try rest.recordRanges().count == 2)
        _ = try await f.streams.getShardIterator(streamARN: arn, shardID: shard.shardID, position: .latest)
    }

    @Test func malformedItemIsRefusedBeforeSending() async throws {
        let f = try await DynamoDBFixture("malformed")
        let error = await #expect(throws: AWSError.self) { try await f.dynamo.putItem(table: f.table, itemJSON: bytes(#"{"pk":{"S":"a"}"#)) }
        #expect(error?.kind == .invalidRequest)
    }
}
