import ArchiverAWS
import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// Creates a table on the shared moto server keyed by PK (S, HASH) and SK (N, RANGE), with a stream when asked.
private func makeItemsTable(_ dynamo: DynamoDBClient, _ label: String, stream: Bool) async throws -> String {
    let table = MotoServer.uniqueName(label)
    try await dynamo.createTable(
        table, keySchema: [DynamoDBKeyElement(attributeName: "PK", keyType: "HASH"), DynamoDBKeyElement(attributeName: "SK", keyType: "RANGE")],
        attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S"), DynamoDBAttributeDefinition(attributeName: "SK", attributeType: "N")],
        streamViewType: stream ? "NEW_AND_OLD_IMAGES" : nil)
    return table
}

/// A DynamoDB table on moto whose stream records its writes: each deletion is a PutItem then, after all of them,
/// a DeleteItem, so the stream holds an INSERT and a REMOVE per item.
struct DynamoDBStreamFixture: ChangeSourceFixture {
    let dynamo: DynamoDBClient
    let streams: DynamoDBStreamsClient
    let table: String

    init() async throws {
        let settings = try await MotoServer.shared().settings()
        dynamo = DynamoDBClient(settings: settings)
        streams = DynamoDBStreamsClient(settings: settings)
        table = try await makeItemsTable(dynamo, "contract", stream: true)
    }

    func delete(_ numbers: Range<Int>) async throws {
        for n in numbers {
            try await dynamo.putItem(table: table, itemJSON: Array(ConformanceItems.dynamoJSON(ConformanceItems.item(n)).utf8))
        }
        for n in numbers {
            try await dynamo.deleteItem(table: table, keyJSON: Array(ConformanceItems.keyJSON(n).utf8))
        }
    }

    private func source(of table: String) async throws -> DynamoDBStreamsSource {
        var source = try await DynamoDBStreamsSource.table(table, dynamoDB: dynamo, streams: streams)
        source.limit = 7
        source.minimumBackoff = 0.01
        source.maximumBackoff = 0.05
        source.describeInterval = 0.2
        return source
    }

    func source() async throws -> any ChangeSource { try await source(of: table) }

    func otherSource() async throws -> any ChangeSource { try await source(of: try await makeItemsTable(dynamo, "contract-other", stream: true)) }

    /// Every record of every shard, as GetRecords answers from the oldest.
    func recordsInFeed() async throws -> [[UInt8]]? {
        guard let arn = try await dynamo.describeTable(table).latestStreamARN else { throw ConformanceFailure("\(table) has no stream") }
        var records: [[UInt8]] = []
        for shard in try await streams.describeStreamAllShards(arn: arn).shards {
            var iterator: String? = try await streams.getShardIterator(streamARN: arn, shardID: shard.shardID, position: .trimHorizon)
            while let current = iterator {
                let result = try await streams.getRecords(iterator: current, limit: 1000)
                let ranges = try result.recordRanges()
                records += ranges.map { Array(result.body[$0]) }
                iterator = ranges.isEmpty ? nil : result.nextShardIterator
            }
        }
        return records
    }
}

/// A DynamoDB table on moto that items are restored into.
struct DynamoDBTableFixture: RestoreTargetFixture {
    let dynamo: DynamoDBClient
    let table: String

    init() async throws {
        dynamo = DynamoDBClient(settings: try await MotoServer.shared().settings())
        table = try await makeItemsTable(dynamo, "contract", stream: false)
    }

    func target() async throws -> any RestoreTarget { DynamoDBRestoreTarget(table: table, client: dynamo) }

    func stored(_ n: Int) async throws -> Item? {
        guard let bytes = try await dynamo.getItem(table: table, keyJSON: Array(ConformanceItems.keyJSON(n).utf8)) else { return nil }
        return try Item(dynamoJSON: JSONValue.parse(bytes))
    }

    func count() async throws -> Int { try await dynamo.scan(table: table).items.count }

    func put(_ item: Item) async throws {
        try await dynamo.putItem(table: table, itemJSON: Array(ConformanceItems.dynamoJSON(item).utf8))
    }

    func unusableTarget() async throws -> (target: any RestoreTarget, name: String) {
        let missing = MotoServer.uniqueName("missing")
        return (DynamoDBRestoreTarget(table: missing, client: dynamo), missing)
    }

    var locationNames: String { table }
}

@Suite("DynamoDB Streams source on moto: the ChangeSource contract")
struct DynamoDBStreamsSourceContractTests {
    @Test(arguments: ChangeSourceConformance.Case.allCases)
    func contract(_ contract: ChangeSourceConformance.Case) async throws {
        try await ChangeSourceConformance.check(contract, try await DynamoDBStreamFixture())
    }
}

@Suite("DynamoDB restore target on moto: the RestoreTarget contract")
struct DynamoDBRestoreTargetContractTests {
    @Test(arguments: RestoreTargetConformance.Case.allCases)
    func contract(_ contract: RestoreTargetConformance.Case) async throws {
        try await RestoreTargetConformance.check(contract, try await DynamoDBTableFixture())
    }
}
