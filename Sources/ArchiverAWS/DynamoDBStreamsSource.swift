import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit
import Logging

/// Reads a DynamoDB stream (`--source dynamodb:<table>` or `dynamodb-stream:<arn>`) shard by shard.
///
/// Each shard is a partition; its checkpoint is the last sequence number taken, or `closed:<seq>` (`closed`
/// when it held nothing) once the shard is finished. Shards are read in lineage order: a child's records
/// only after its parent is finished (a parent missing from the description was trimmed and counts as
/// finished). Each GetRecords response becomes one batch whose buffer is the raw response body, so the
/// archive holds the exact bytes the service sent. Records trimmed from a shard before they were read are
/// reported as gaps (``batches(after:follow:stop:onGap:)``).
public struct DynamoDBStreamsSource: ChangeSource {
    /// `dynamodb-stream:<arn>`.
    public let id: String
    /// The stream read.
    public let streamARN: String
    /// The table's key attributes, HASH then RANGE.
    public let keyOrder: [String]?
    /// The table of the stream (from its ARN, `…:table/<name>/stream/…`): the Streams API's records do not name it.
    public var table: String? { tableName(fromARN: streamARN) }

    /// Records per GetRecords call.
    public var limit = 1000
    /// First wait after an empty poll when following, doubled up to ``maximumBackoff``.
    public var minimumBackoff = 0.25
    /// Longest wait between polls of a shard at its tip.
    public var maximumBackoff = 2.0
    /// How often a following read looks for new shards, in seconds.
    public var describeInterval = 10.0

    private let client: DynamoDBStreamsClient
    private let logger: Logger

    /// A source over a stream whose ARN and key order are known.
    public init(streamARN: String, keyOrder: [String]?, client: DynamoDBStreamsClient, logger: Logger = Logger(label: "archiver.dynamodb-stream")) {
        self.streamARN = streamARN
        self.id = "dynamodb-stream:" + streamARN
        self.keyOrder = keyOrder
        self.client = client
        self.logger = logger
    }

    /// The source for a table's current stream (DescribeTable → LatestStreamArn).
    /// - Throws: `SourceError` of kind `noStream` when the table has no stream enabled.
    public static func table(
        _ table: String, dynamoDB: DynamoDBClient, streams: DynamoDBStreamsClient, logger: Logger = Logger(label: "archiver.dynamodb-stream")
    ) async throws -> DynamoDBStreamsSource {
        let description = try await dynamoDB.describeTable(table)
        guard let arn = description.latestStreamARN, description.streamSpecification?.streamEnabled ?? true else {
            throw SourceError.noStream(
                "table \(table) has no stream; enable one with view type NEW_AND_OLD_IMAGES (aws dynamodb update-table --table-name \(table) --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES)")
        }
        if let view = description.streamSpecification?.streamViewType, view != "NEW_AND_OLD_IMAGES", view != "OLD_IMAGE" {
            logger.warning(
                "the stream of \(table) has view type \(view): its REMOVE records carry no OldImage and go to the dead-letter folder; use NEW_AND_OLD_IMAGES",
                metadata: ["dynamodb.table": "\(table)"])
        }
        return DynamoDBStreamsSource(streamARN: arn, keyOrder: keyOrder(description.keySchema), client: streams, logger: logger)
    }

    /// The source for a stream named by its ARN (DescribeStream gives the key schema).
    public static func stream(_ arn: String, streams: DynamoDBStreamsClient, logger: Logger = Logger(label: "archiver.dynamodb-stream")) async throws
        -> DynamoDBStreamsSource
    {
        let description = try await streams.describeStream(arn: arn, limit: 1)
        let order = keyOrder(description.keySchema)
        return DynamoDBStreamsSource(streamARN: arn, keyOrder: order.isEmpty ? nil : order, client: streams, logger: logger)
    }

    static func keyOrder(_ schema: [DynamoDBKeyElement]) -> [String] {
        schema.filter { $0.keyType == "HASH" }.map(\.attributeName) + schema.filter { $0.keyType != "HASH" }.map(\.attributeName)
    }

    public func batches(after checkpoints: [String: String], follow: Bool, stop: StopSignal) -> AsyncThrowingStream<SourceBatch, any Error> {
        batches(after: checkpoints, follow: follow, stop: stop, onGap: { _ in })
    }

    public func batches(
        after checkpoints: [String: String], follow: Bool, stop: StopSignal, onGap: @escaping @Sendable (SourceGap) -> Void
    ) -> AsyncThrowingStream<SourceBatch, any Error> {
        let state = ReadState(checkpoints: checkpoints, onGap: onGap)
        let source = self
        return AsyncThrowingStream {
            try await source.next(state: state, follow: follow, stop: stop)
        }
    }

    // MARK: Reading

    /// The next batch, or nil when done (not following and every readable shard is at its tip) or stopped.
    private func next(state: ReadState, follow: Bool, stop: StopSignal) async throws -> SourceBatch? {
        var expiredInARow = 0
        var trimmedInARow = 0
        while !stop.isStopped && !Task.isCancelled {
            let now = Date()
            if state.needsDescribe || (follow && now.timeIntervalSince(state.lastDescribe) >= describeInterval) {
                try await describe(state)
            }
            let readable = state.order.compactMap { state.shards[$0] }.filter { !$0.finished && state.parentFinished($0) }
            if !follow, readable.allSatisfy(\.emptyAtTip) { return nil }
            guard let shard = readable.filter({ $0.nextPollAt <= now && (follow || !$0.emptyAtTip) }).min(by: { $0.nextPollAt < $1.nextPollAt }) else {
                // Everything waits: sleep until the first shard is due (or the next look for shards).
                let due = readable.map(\.nextPollAt).min() ?? now.addingTimeInterval(describeInterval)
                let wait = min(max(due.timeIntervalSince(now), 0.01), max(describeInterval - now.timeIntervalSince(state.lastDescribe), 0.01))
                if !follow && readable.isEmpty { return nil }
                await stop.sleep(seconds: wait)
                continue
            }
            do {
                if let batch = try await poll(shard, state: state, follow: follow) {
                    return batch
                }
                expiredInARow = 0
                trimmedInARow = 0
            } catch let error as AWSError where error.kind == .expiredIterator {
                expiredInARow += 1
                if expiredInARow > 3 { throw error }
                logger.info("shard iterator expired; making a new one from the checkpoint", metadata: meta(shard))
                shard.iterator = nil
            } catch let error as AWSError where error.kind == .trimmedDataAccess {
                trimmedInARow += 1
                if trimmedInARow > 3 { throw error }
                let detail = "records of shard \(shard.id) after \(shard.sequence.map { "sequence \($0)" } ?? "its start") were trimmed from the stream before they were read; reading on from the oldest record still there"
                logger.error("\(detail)", metadata: meta(shard))
                state.onGap(SourceGap(partition: shard.id, detail: detail))
                shard.iterator = nil
                shard.fromTrimHorizon = true
            } catch let error as AWSError where error.kind == .resourceNotFound {
                // The shard may have been trimmed away since the stream was described; if the stream itself is gone, describing fails.
                try await describe(state)
                guard !state.described.contains(shard.id) else { throw error }
                let detail = "shard \(shard.id) was trimmed from the stream before it was read to its end (read up to \(shard.sequence.map { "sequence \($0)" } ?? "its start")); its later records are lost"
                logger.error("\(detail)", metadata: meta(shard))
                state.onGap(SourceGap(partition: shard.id, detail: detail))
                shard.finished = true
                shard.iterator = nil
            } catch let error as AWSError where error.kind == .throttled {
                logger.warning("throttled reading the stream; waiting", metadata: meta(shard))
                shard.wait(after: true, minimum: minimumBackoff, maximum: maximumBackoff)
            }
        }
        return nil
    }

    /// One GetRecords call on a shard; a batch when it gave records or finished the shard.
    private func poll(_ shard: ShardState, state: ReadState, follow: Bool) async throws -> SourceBatch? {
        if shard.iterator == nil {
            let position: DynamoDBShardIteratorPosition
            if shard.fromTrimHorizon {
                position = .trimHorizon
            } else {
                position = shard.sequence.map { .afterSequenceNumber($0) } ?? .trimHorizon
            }
            shard.iterator = try await client.getShardIterator(streamARN: streamARN, shardID: shard.id, position: position)
        }
        guard let iterator = shard.iterator else { return nil }
        let result = try await client.getRecords(iterator: iterator, limit: limit)
        shard.fromTrimHorizon = false
        let ranges: [Range<Int>]
        var labels: [String] = []
        do {
            ranges = try result.recordRanges()
            labels.reserveCapacity(ranges.count)
            for range in ranges {
                let sequence = try Self.sequenceNumber(result.body, in: range)
                labels.append("shard \(shard.id) sequence \(sequence ?? "?")")
                if let sequence { shard.sequence = sequence }
            }
        } catch {
            throw AWSError.invalidResponse(.dynamoDBStreams, operation: "GetRecords", reason: "records not readable: \(error)")
        }
        shard.iterator = result.nextShardIterator
        if result.nextShardIterator == nil {
            shard.finished = true
            state.needsDescribe = true  // its children may not be described yet
            logger.info("shard finished", metadata: meta(shard))
        }
        if ranges.isEmpty && !shard.finished {
            shard.wait(after: true, minimum: minimumBackoff, maximum: maximumBackoff)
            shard.emptyAtTip = true
            if !follow { shard.nextPollAt = .distantPast }
            return nil
        }
        shard.wait(after: false, minimum: minimumBackoff, maximum: maximumBackoff)
        shard.emptyAtTip = false
        let checkpoint = shard.finished ? (shard.sequence.map { "closed:\($0)" } ?? "closed") : (shard.sequence ?? "")
        var batch = SourceBatch(partition: shard.id, buffer: result.body, records: ranges, positions: .labels(labels), checkpoint: checkpoint)
        batch.endsPartition = shard.finished
        return batch
    }

    /// Reads every shard of the stream (all DescribeStream pages) and adds the new ones.
    private func describe(_ state: ReadState) async throws {
        let description = try await client.describeStreamAllShards(arn: streamARN)
        state.lastDescribe = Date()
        state.needsDescribe = false
        state.described = Set(description.shards.map(\.shardID))
        if !state.checkedVanished {
            // A shard read part-way before a stop and trimmed away since: whatever it held after the checkpoint is gone.
            state.checkedVanished = true
            for (shard, saved) in state.checkpoints.sorted(by: { $0.key < $1.key })
            where !state.described.contains(shard) && !saved.hasPrefix("closed") && !shard.isEmpty {
                let detail = "shard \(shard) was trimmed from the stream before it was read to its end (read up to sequence \(saved)); its later records are lost"
                logger.error("\(detail)", metadata: ["dynamodb.stream": "\(streamARN)", "dynamodb.shard": "\(shard)"])
                state.onGap(SourceGap(partition: shard, detail: detail))
            }
        }
        for shard in description.shards where state.shards[shard.shardID] == nil {
            let entry = ShardState(id: shard.shardID, parent: shard.parentShardID)
            if let saved = state.checkpoints[shard.shardID] {
                if saved == "closed" {
                    entry.finished = true
                } else if saved.hasPrefix("closed:") {
                    entry.finished = true
                    entry.sequence = String(saved.dropFirst("closed:".count))
                } else if !saved.isEmpty {
                    entry.sequence = saved
                }
            }
            state.shards[shard.shardID] = entry
            state.order.append(shard.shardID)
            logger.debug("shard found", metadata: meta(entry))
        }
    }

    private func meta(_ shard: ShardState) -> Logger.Metadata {
        ["dynamodb.stream": "\(streamARN)", "dynamodb.shard": "\(shard.id)"]
    }

    /// `dynamodb.SequenceNumber` of the record at `range`.
    static func sequenceNumber(_ body: [UInt8], in range: Range<Int>) throws -> String? {
        guard let inner = try RawJSON.member("dynamodb", of: body, in: range),
            let sequence = try RawJSON.member("SequenceNumber", of: body, in: inner)
        else { return nil }
        return try RawJSON.string(body, in: sequence)
    }
}

/// Where one shard stands. Used by one reader at a time.
private final class ShardState: @unchecked Sendable {
    let id: String
    let parent: String?
    var sequence: String?
    var finished = false
    var iterator: String?
    var fromTrimHorizon = false
    var emptyAtTip = false
    var nextPollAt = Date.distantPast
    var backoff = 0.0

    init(id: String, parent: String?) {
        self.id = id
        self.parent = parent
    }

    func wait(after empty: Bool, minimum: Double, maximum: Double) {
        if empty {
            backoff = backoff == 0 ? minimum : min(backoff * 2, maximum)
            nextPollAt = Date().addingTimeInterval(backoff)
        } else {
            backoff = 0
            nextPollAt = .distantPast
        }
    }
}

/// Where a read of the whole stream stands. The stream calls its producer one call at a time.
private final class ReadState: @unchecked Sendable {
    let checkpoints: [String: String]
    var shards: [String: ShardState] = [:]
    var order: [String] = []
    var described: Set<String> = []
    var lastDescribe = Date.distantPast
    var needsDescribe = true
    var checkedVanished = false
    /// Where gaps are reported.
    let onGap: @Sendable (SourceGap) -> Void

    init(checkpoints: [String: String], onGap: @escaping @Sendable (SourceGap) -> Void) {
        self.checkpoints = checkpoints
        self.onGap = onGap
    }

    /// A shard may be read once its parent is finished; a parent no longer described was trimmed.
    func parentFinished(_ shard: ShardState) -> Bool {
        guard let parent = shard.parent, let parentState = shards[parent] else { return true }
        if parentState.finished { return true }
        return false
    }
}
