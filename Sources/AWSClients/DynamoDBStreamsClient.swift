import Foundation
import JSONToolkit
import Logging

/// A DynamoDB Streams client (`X-Amz-Target: DynamoDBStreams_20120810.<Op>`, signed as service "dynamodb",
/// sent to `streams.dynamodb.<region>.amazonaws.com` or the configured override).
///
/// GetRecords returns the raw response body so that records can be archived byte-exact; only
/// `NextShardIterator` is decoded.
public struct DynamoDBStreamsClient: Sendable {
    private let json: AWSJSONProtocol

    /// The HTTP layer: signing, retries, logging.
    public var http: AWSHTTPClient { json.http }
    /// The DynamoDB Streams endpoint.
    public var endpoint: URL { json.endpoint }

    /// Creates a client over an HTTP layer.
    public init(http: AWSHTTPClient, endpoint: URL) {
        json = AWSJSONProtocol(http: http, service: .dynamoDBStreams, endpoint: endpoint, targetPrefix: "DynamoDBStreams_20120810")
    }

    /// Creates a client from resolved settings.
    public init(
        settings: AWSSettings, transport: any HTTPTransport = NIOHTTPTransport.shared(), retryPolicy: RetryPolicy = .standard,
        logger: Logger = Logger(label: "archiver.aws.dynamodbstreams")
    ) {
        self.init(
            http: AWSHTTPClient(settings: settings, transport: transport, retryPolicy: retryPolicy, logger: logger),
            endpoint: settings.endpoint(for: .dynamoDBStreams))
    }

    /// The streams of a table (all pages), or of every table when `table` is nil.
    public func listStreams(table: String? = nil) async throws -> [DynamoDBStreamSummary] {
        struct Response: Decodable {
            let Streams: [DynamoDBStreamSummary]?
            let LastEvaluatedStreamArn: String?
        }
        var all: [DynamoDBStreamSummary] = []
        var start: String?
        repeat {
            var body = JSONObjectWriter()
            if let table { body.string("TableName", table) }
            if let start { body.string("ExclusiveStartStreamArn", start) }
            let page = try await json.call("ListStreams", body: body.finished(), resource: table.map { AWSResource(table: $0) }, as: Response.self)
            all += page.Streams ?? []
            start = page.LastEvaluatedStreamArn
        } while start != nil
        return all
    }

    /// One page of a stream's description and shards, starting after `exclusiveStartShardID`.
    public func describeStream(arn: String, exclusiveStartShardID: String? = nil, limit: Int? = nil) async throws -> DynamoDBStreamDescription {
        var body = JSONObjectWriter()
        body.string("StreamArn", arn)
        if let exclusiveStartShardID { body.string("ExclusiveStartShardId", exclusiveStartShardID) }
        if let limit { body.int("Limit", limit) }
        struct Response: Decodable { let StreamDescription: DynamoDBStreamDescription }
        return try await json.call(
            "DescribeStream", body: body.finished(), resource: AWSResource(stream: arn), as: Response.self,
            metadata: ["dynamodb.stream": "\(arn)"]
        ).StreamDescription
    }

    /// The stream's description with every shard, paging through DescribeStream.
    public func describeStreamAllShards(arn: String) async throws -> DynamoDBStreamDescription {
        var description = try await describeStream(arn: arn)
        var next = description.lastEvaluatedShardID
        while let start = next {
            let page = try await describeStream(arn: arn, exclusiveStartShardID: start)
            description.shards += page.shards
            next = page.lastEvaluatedShardID
        }
        description.lastEvaluatedShardID = nil
        return description
    }

    /// An iterator for reading a shard from `position`.
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/trimmedDataAccess`` when the sequence number is past retention.
    public func getShardIterator(streamARN: String, shardID: String, position: DynamoDBShardIteratorPosition) async throws -> String {
        var body = JSONObjectWriter()
        body.string("StreamArn", streamARN)
        body.string("ShardId", shardID)
        body.string("ShardIteratorType", position.typeName)
        if let sequence = position.sequenceNumber { body.string("SequenceNumber", sequence) }
        struct Response: Decodable { let ShardIterator: String? }
        let response = try await json.call(
            "GetShardIterator", body: body.finished(), resource: AWSResource(stream: streamARN), as: Response.self,
            metadata: ["dynamodb.stream": "\(streamARN)", "dynamodb.shard": "\(shardID)"])
        guard let iterator = response.ShardIterator else {
            throw AWSError.invalidResponse(.dynamoDBStreams, operation: "GetShardIterator", reason: "no ShardIterator", resource: AWSResource(stream: streamARN))
        }
        return iterator
    }

    /// Reads records from a shard iterator.
    ///
    /// Returns the raw body and the decoded `NextShardIterator` (nil when the shard is closed and read to its end).
    /// - Throws: ``AWSError`` of kind ``AWSError/Kind/expiredIterator`` (get a new iterator) or
    ///   ``AWSError/Kind/trimmedDataAccess`` (the records are past retention).
    public func getRecords(iterator: String, limit: Int? = nil) async throws -> DynamoDBGetRecordsResult {
        var body = JSONObjectWriter()
        body.string("ShardIterator", iterator)
        if let limit { body.int("Limit", limit) }
        let response = try await json.call("GetRecords", body: body.finished(), resource: nil)
        do {
            var next: String?
            if let range = try RawJSON.member("NextShardIterator", of: response.body),
                response.body[range.lowerBound] == UInt8(ascii: "\"")
            {
                next = try RawJSON.string(response.body, in: range)
            }
            return DynamoDBGetRecordsResult(body: response.body, nextShardIterator: next)
        } catch {
            throw AWSError.invalidResponse(
                .dynamoDBStreams, operation: "GetRecords", reason: "\(error)", requestID: response.header("x-amzn-requestid"))
        }
    }
}
