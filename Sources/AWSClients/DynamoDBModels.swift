import Foundation
import JSONToolkit

/// One attribute of a key schema.
public struct DynamoDBKeyElement: Sendable, Equatable, Codable {
    /// The attribute name.
    public var attributeName: String
    /// "HASH" (partition key) or "RANGE" (sort key).
    public var keyType: String

    /// Creates a key element.
    public init(attributeName: String, keyType: String) {
        self.attributeName = attributeName
        self.keyType = keyType
    }

    enum CodingKeys: String, CodingKey {
        case attributeName = "AttributeName"
        case keyType = "KeyType"
    }
}

/// The type of a key attribute.
public struct DynamoDBAttributeDefinition: Sendable, Equatable, Codable {
    /// The attribute name.
    public var attributeName: String
    /// "S", "N" or "B".
    public var attributeType: String

    /// Creates an attribute definition.
    public init(attributeName: String, attributeType: String) {
        self.attributeName = attributeName
        self.attributeType = attributeType
    }

    enum CodingKeys: String, CodingKey {
        case attributeName = "AttributeName"
        case attributeType = "AttributeType"
    }
}

/// Whether a table has a stream, and what its records hold.
public struct DynamoDBStreamSpecification: Sendable, Equatable, Codable {
    /// Whether the stream is on.
    public var streamEnabled: Bool
    /// "KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE" or "NEW_AND_OLD_IMAGES".
    public var streamViewType: String?

    /// Creates a stream specification.
    public init(streamEnabled: Bool, streamViewType: String?) {
        self.streamEnabled = streamEnabled
        self.streamViewType = streamViewType
    }

    enum CodingKeys: String, CodingKey {
        case streamEnabled = "StreamEnabled"
        case streamViewType = "StreamViewType"
    }
}

/// What DescribeTable tells about a table.
public struct DynamoDBTableDescription: Sendable, Equatable, Decodable {
    /// The table name.
    public var tableName: String
    /// The table ARN.
    public var tableARN: String?
    /// "CREATING", "ACTIVE", "UPDATING", "DELETING", …
    public var tableStatus: String?
    /// The primary key: the HASH element, then the RANGE element if any.
    public var keySchema: [DynamoDBKeyElement]
    /// The types of the key attributes.
    public var attributeDefinitions: [DynamoDBAttributeDefinition]
    /// The stream settings, when a stream was ever configured.
    public var streamSpecification: DynamoDBStreamSpecification?
    /// The ARN of the latest stream.
    public var latestStreamARN: String?
    /// The label of the latest stream.
    public var latestStreamLabel: String?
    /// The approximate item count.
    public var itemCount: Int64?

    /// The names of the key attributes, HASH first.
    public var keyAttributeNames: [String] {
        keySchema.sorted { a, _ in a.keyType == "HASH" }.map(\.attributeName)
    }

    enum CodingKeys: String, CodingKey {
        case tableName = "TableName"
        case tableARN = "TableArn"
        case tableStatus = "TableStatus"
        case keySchema = "KeySchema"
        case attributeDefinitions = "AttributeDefinitions"
        case streamSpecification = "StreamSpecification"
        case latestStreamARN = "LatestStreamArn"
        case latestStreamLabel = "LatestStreamLabel"
        case itemCount = "ItemCount"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tableName = try c.decode(String.self, forKey: .tableName)
        tableARN = try c.decodeIfPresent(String.self, forKey: .tableARN)
        tableStatus = try c.decodeIfPresent(String.self, forKey: .tableStatus)
        keySchema = try c.decodeIfPresent([DynamoDBKeyElement].self, forKey: .keySchema) ?? []
        attributeDefinitions = try c.decodeIfPresent([DynamoDBAttributeDefinition].self, forKey: .attributeDefinitions) ?? []
        streamSpecification = try c.decodeIfPresent(DynamoDBStreamSpecification.self, forKey: .streamSpecification)
        latestStreamARN = try c.decodeIfPresent(String.self, forKey: .latestStreamARN)
        latestStreamLabel = try c.decodeIfPresent(String.self, forKey: .latestStreamLabel)
        itemCount = try c.decodeIfPresent(Int64.self, forKey: .itemCount)
    }
}

/// A condition on PutItem.
public enum DynamoDBPutCondition: Sendable, Equatable {
    /// Write unconditionally.
    case none
    /// Write only if no item with this key exists: `attribute_not_exists` on each named key attribute.
    case attributeNotExists([String])
}

/// One page of a Scan: items as raw DynamoDB JSON.
public struct DynamoDBScanPage: Sendable, Equatable {
    /// Each item's raw DynamoDB JSON (`{"attr": {"S": "…"}, …}`), byte-exact as received.
    public var items: [[UInt8]]
    /// The raw JSON key to continue from; nil on the last page.
    public var lastEvaluatedKey: [UInt8]?
    /// How many items the page read before the filter (`ScannedCount`).
    public var scannedCount: Int = 0
}

/// A stream in ListStreams.
public struct DynamoDBStreamSummary: Sendable, Equatable, Decodable {
    /// The stream ARN.
    public var streamARN: String
    /// The table the stream belongs to.
    public var tableName: String?
    /// The stream label (a timestamp).
    public var streamLabel: String?

    enum CodingKeys: String, CodingKey {
        case streamARN = "StreamArn"
        case tableName = "TableName"
        case streamLabel = "StreamLabel"
    }
}

/// One shard of a stream.
public struct DynamoDBShard: Sendable, Equatable, Decodable {
    /// The shard ID.
    public var shardID: String
    /// The shard this one split from, if any.
    public var parentShardID: String?
    /// The first sequence number in the shard.
    public var startingSequenceNumber: String?
    /// The last sequence number; nil while the shard is open.
    public var endingSequenceNumber: String?

    /// Whether the shard is closed (has an ending sequence number).
    public var isClosed: Bool { endingSequenceNumber != nil }

    enum CodingKeys: String, CodingKey {
        case shardID = "ShardId"
        case parentShardID = "ParentShardId"
        case sequenceNumberRange = "SequenceNumberRange"
    }

    enum RangeKeys: String, CodingKey {
        case starting = "StartingSequenceNumber"
        case ending = "EndingSequenceNumber"
    }

    /// Creates a shard record.
    public init(shardID: String, parentShardID: String? = nil, startingSequenceNumber: String? = nil, endingSequenceNumber: String? = nil) {
        self.shardID = shardID
        self.parentShardID = parentShardID
        self.startingSequenceNumber = startingSequenceNumber
        self.endingSequenceNumber = endingSequenceNumber
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        shardID = try c.decode(String.self, forKey: .shardID)
        parentShardID = try c.decodeIfPresent(String.self, forKey: .parentShardID)
        if c.contains(.sequenceNumberRange) {
            let r = try c.nestedContainer(keyedBy: RangeKeys.self, forKey: .sequenceNumberRange)
            startingSequenceNumber = try r.decodeIfPresent(String.self, forKey: .starting)
            endingSequenceNumber = try r.decodeIfPresent(String.self, forKey: .ending)
        }
    }
}

/// What DescribeStream tells about a stream: one page of its shards.
public struct DynamoDBStreamDescription: Sendable, Equatable, Decodable {
    /// The stream ARN.
    public var streamARN: String
    /// The stream label.
    public var streamLabel: String?
    /// "ENABLING", "ENABLED", "DISABLING" or "DISABLED".
    public var streamStatus: String?
    /// What the records hold, e.g. "NEW_AND_OLD_IMAGES".
    public var streamViewType: String?
    /// The table.
    public var tableName: String?
    /// The table's key schema.
    public var keySchema: [DynamoDBKeyElement]
    /// The shards of this page.
    public var shards: [DynamoDBShard]
    /// Where the next page starts; nil on the last page.
    public var lastEvaluatedShardID: String?

    enum CodingKeys: String, CodingKey {
        case streamARN = "StreamArn"
        case streamLabel = "StreamLabel"
        case streamStatus = "StreamStatus"
        case streamViewType = "StreamViewType"
        case tableName = "TableName"
        case keySchema = "KeySchema"
        case shards = "Shards"
        case lastEvaluatedShardID = "LastEvaluatedShardId"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        streamARN = try c.decode(String.self, forKey: .streamARN)
        streamLabel = try c.decodeIfPresent(String.self, forKey: .streamLabel)
        streamStatus = try c.decodeIfPresent(String.self, forKey: .streamStatus)
        streamViewType = try c.decodeIfPresent(String.self, forKey: .streamViewType)
        tableName = try c.decodeIfPresent(String.self, forKey: .tableName)
        keySchema = try c.decodeIfPresent([DynamoDBKeyElement].self, forKey: .keySchema) ?? []
        shards = try c.decodeIfPresent([DynamoDBShard].self, forKey: .shards) ?? []
        lastEvaluatedShardID = try c.decodeIfPresent(String.self, forKey: .lastEvaluatedShardID)
    }
}

/// Where a shard iterator starts.
public enum DynamoDBShardIteratorPosition: Sendable, Equatable {
    /// The oldest record still in the shard.
    case trimHorizon
    /// Just after the newest record.
    case latest
    /// At this sequence number.
    case atSequenceNumber(String)
    /// Just after this sequence number.
    case afterSequenceNumber(String)

    /// The `ShardIteratorType` value.
    public var typeName: String {
        switch self {
        case .trimHorizon: "TRIM_HORIZON"
        case .latest: "LATEST"
        case .atSequenceNumber: "AT_SEQUENCE_NUMBER"
        case .afterSequenceNumber: "AFTER_SEQUENCE_NUMBER"
        }
    }

    /// The sequence number, for the positions that have one.
    public var sequenceNumber: String? {
        switch self {
        case .trimHorizon, .latest: nil
        case .atSequenceNumber(let s), .afterSequenceNumber(let s): s
        }
    }
}

/// A GetRecords answer: the raw body (so records can be archived byte-exact) and the iterator for the next call.
public struct DynamoDBGetRecordsResult: Sendable, Equatable {
    /// The whole response body, `{"Records": [...], "NextShardIterator": "..."}`, as received.
    public var body: [UInt8]
    /// The iterator for the next call; nil when the shard is closed and fully read.
    public var nextShardIterator: String?

    /// Creates a result.
    public init(body: [UInt8], nextShardIterator: String?) {
        self.body = body
        self.nextShardIterator = nextShardIterator
    }

    /// The byte ranges in ``body`` of each record of the `Records` array.
    public func recordRanges() throws -> [Range<Int>] {
        guard let records = try RawJSON.member("Records", of: body) else { return [] }
        return try RawJSON.arrayElements(body, in: records)
    }
}
