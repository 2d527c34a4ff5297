import ArchiverAWS
import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// A fake DynamoDB Streams endpoint serving the shard graph of `fixtures/streams/shard-graph.json`.
///
/// Time is the number of GetRecords calls made so far ("polls"): records, shards and closings appear as it grows.
final class FakeStreams: HTTPTransport, @unchecked Sendable {
    struct Shard {
        var id: String
        var parent: String?
        var visibleAt: Int
        var closesAt: Int?
        var records: [(seq: String, at: Int)]
    }

    let arn: String
    let keySchema: [[String: String]]
    let pageSize: Int
    let describePageSize: Int
    private(set) var shards: [Shard] = []
    private let lock = NSLock()
    private var polls: Int
    /// Records trimmed from the start of a shard (count).
    var trimmed: [String: Int] = [:]
    /// GetRecords on this shard at this poll count answers ExpiredIteratorException (once).
    var expireAt: [String: Int] = [:]
    /// Shards that vanish (trimmed away) once DescribeStream has been called this many times.
    var goneAfterDescribes: (shards: Set<String>, calls: Int) = ([], .max)
    private var describeCalls = 0
    private func gone(_ id: String) -> Bool { describeCalls >= goneAfterDescribes.calls && goneAfterDescribes.shards.contains(id) }
    /// What was asked: "DescribeStream", "GetShardIterator <shard> <type> <seq>", "GetRecords <shard> <index>".
    private(set) var calls: [String] = []

    init(startPoll: Int = 0) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: PackagePaths.fixture("streams/shard-graph.json")))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        arn = root["streamArn"] as! String
        keySchema = root["keySchema"] as! [[String: String]]
        pageSize = root["pageSize"] as! Int
        describePageSize = root["describePageSize"] as! Int
        for shard in root["shards"] as! [[String: Any]] {
            shards.append(
                Shard(
                    id: shard["id"] as! String, parent: shard["parent"] as? String, visibleAt: shard["visibleAt"] as! Int,
                    closesAt: shard["closesAt"] as? Int,
                    records: (shard["records"] as! [[String: Any]]).map { ($0["seq"] as! String, $0["at"] as! Int) }))
        }
        polls = startPoll
    }

    var allSequences: [String] { shards.flatMap { $0.records.map(\.seq) } }
    var log: [String] { lock.withLock { calls } }

    func client() -> DynamoDBStreamsClient {
        DynamoDBStreamsClient(
            http: AWSHTTPClient(credentials: AWSCredentials(accessKeyID: "AKIDFAKE", secretAccessKey: "fake"), region: "us-east-1", transport: self, retryPolicy: .none),
            endpoint: URL(string: "http://streams.fake.invalid")!)
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        lock.withLock { answer(request) }
    }

    private func ok(_ object: Any) -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["content-type": "application/x-amz-json-1.0"], body: Array(try! JSONSerialization.data(withJSONObject: object)))
    }

    private func failure(_ type: String, _ message: String) -> HTTPResponse {
        HTTPResponse(
            status: 400, headers: ["content-type": "application/x-amz-json-1.0"],
            body: Array("{\"__type\":\"com.amazonaws.dynamodb.v20120810#\(type)\",\"message\":\"\(message)\"}".utf8))
    }

    static func record(_ seq: String) -> String {
        """
        {"eventID":"e\(seq)","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1",\
        "dynamodb":{"ApproximateCreationDateTime":1705315800,"Keys":{"SK":{"S":"META"},"PK":{"S":"SESSION#\(seq)"}},\
        "OldImage":{"PK":{"S":"SESSION#\(seq)"},"SK":{"S":"META"},"big":{"N":"12345678901234567890123456789012345678"}},\
        "SequenceNumber":"\(seq)","SizeBytes":120,"StreamViewType":"NEW_AND_OLD_IMAGES"}}
        """
    }

    private func closed(_ shard: Shard) -> Bool { shard.closesAt.map { polls >= $0 } ?? false }

    private func answer(_ request: HTTPRequest) -> HTTPResponse {
        let target = request.header("x-amz-target") ?? ""
        let body = (try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]) ?? [:]
        switch target.split(separator: ".").last.map(String.init) ?? "" {
        case "DescribeStream":
            calls.append("DescribeStream")
            defer { describeCalls += 1 }
            var visible = shards.filter { $0.visibleAt <= polls && !gone($0.id) }.sorted { $0.id < $1.id }
            if let start = body["ExclusiveStartShardId"] as? String { visible = visible.filter { $0.id > start } }
            let page = Array(visible.prefix(describePageSize))
            var description: [String: Any] = [
                "StreamArn": arn, "StreamStatus": "ENABLED", "StreamViewType": "NEW_AND_OLD_IMAGES", "TableName": "Sessions",
                "KeySchema": keySchema,
                "Shards": page.map { shard -> [String: Any] in
                    var range: [String: String] = ["StartingSequenceNumber": shard.records.first?.seq ?? "0"]
                    if closed(shard) { range["EndingSequenceNumber"] = shard.records.last?.seq ?? "0" }
                    var entry: [String: Any] = ["ShardId": shard.id, "SequenceNumberRange": range]
                    if let parent = shard.parent { entry["ParentShardId"] = parent }
                    return entry
                },
            ]
            if visible.count > page.count, let last = page.last { description["LastEvaluatedShardId"] = last.id }
            return ok(["StreamDescription": description])
        case "GetShardIterator":
            let id = body["ShardId"] as! String
            let type = body["ShardIteratorType"] as! String
            let seq = body["SequenceNumber"] as? String
            calls.append("GetShardIterator \(id) \(type)\(seq.map { " " + $0 } ?? "")")
            guard let shard = shards.first(where: { $0.id == id }), !gone(id) else { return failure("ResourceNotFoundException", "no shard \(id)") }
            let trimmedCount = trimmed[id] ?? 0
            var index: Int
            switch type {
            case "TRIM_HORIZON": index = trimmedCount
            case "AFTER_SEQUENCE_NUMBER":
                let seq = seq!
                index = shard.records.firstIndex { ($0.seq.count, $0.seq) > (seq.count, seq) } ?? shard.records.count
                if index < trimmedCount { return failure("TrimmedDataAccessException", "the sequence number is beyond the trim horizon") }
            default: index = shard.records.count
            }
            return ok(["ShardIterator": "it|\(id)|\(index)"])
        case "GetRecords":
            let parts = (body["ShardIterator"] as! String).split(separator: "|").map(String.init)
            let id = parts[1]
            let index = Int(parts[2])!
            calls.append("GetRecords \(id) \(index)")
            let now = polls
            polls += 1
            if expireAt[id] == now {
                expireAt[id] = nil
                return failure("ExpiredIteratorException", "Iterator expired")
            }
            if gone(id) { return failure("ResourceNotFoundException", "Requested resource not found: Shard: \(id) in Stream: \(arn)") }
            let shard = shards.first { $0.id == id }!
            if index < (trimmed[id] ?? 0) { return failure("TrimmedDataAccessException", "trimmed") }
            var taken: [String] = []
            var next = index
            while next < shard.records.count, taken.count < pageSize, shard.records[next].at <= now {
                taken.append(shard.records[next].seq)
                next += 1
            }
            let isClosed = shard.closesAt.map { now >= $0 } ?? false
            var text = "{\"Records\":[" + taken.map(Self.record).joined(separator: ",") + "]"
            if !(isClosed && next == shard.records.count) { text += ",\"NextShardIterator\":\"it|\(id)|\(next)\"" }
            text += "}"
            return HTTPResponse(status: 200, headers: ["content-type": "application/x-amz-json-1.0"], body: Array(text.utf8))
        default:
            return failure("UnknownOperationException", target)
        }
    }
}

/// Gaps reported by a source.
final class GapLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(String, String)] = []
    func add(_ partition: String, _ detail: String) { lock.withLock { entries.append((partition, detail)) } }
    var all: [(String, String)] { lock.withLock { entries } }
}

struct StreamRead {
    /// (shard, sequence number) of each record, in the order yielded.
    var records: [(shard: String, seq: String)] = []
    /// The last checkpoint yielded per shard.
    var checkpoints: [String: String] = [:]
    var batches: [SourceBatch] = []

    func sequences(of shard: String) -> [String] { records.filter { $0.shard == shard }.map(\.seq) }
}

@Suite struct DynamoDBStreamsSourceTests {
    let parent = "shardId-00000001-parent"
    let childA = "shardId-00000002-child-a"
    let childB = "shardId-00000003-child-b"

    func source(_ fake: FakeStreams) -> DynamoDBStreamsSource {
        var source = DynamoDBStreamsSource(streamARN: fake.arn, keyOrder: ["PK", "SK"], client: fake.client())
        source.minimumBackoff = 0.005
        source.maximumBackoff = 0.02
        source.describeInterval = 0.02
        return source
    }

    /// Reads until the stream ends, or (following) until `count` records came. Gaps go to `gaps`, reported
    /// through the `ChangeSource` protocol as the pipeline receives them.
    func read(
        _ source: any ChangeSource, after checkpoints: [String: String] = [:], follow: Bool = false, count: Int = .max, gaps: GapLog? = nil
    ) async throws -> StreamRead {
        var result = StreamRead()
        let stop = StopSignal()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(120))
            stop.stop()
        }
        defer { watchdog.cancel() }
        for try await batch in source.batches(after: checkpoints, follow: follow, stop: stop, onGap: { gaps?.add($0.partition, $0.detail) }) {
            result.batches.append(batch)
            result.checkpoints[batch.partition] = batch.checkpoint
            for (index, range) in batch.records.enumerated() {
                let scanned = try RecordScanner().scan(Array(batch.buffer[range]))
                #expect(batch.position(of: index) == "shard \(batch.partition) sequence \(scanned.sequenceNumber ?? "")")
                result.records.append((batch.partition, scanned.sequenceNumber ?? ""))
            }
            if result.records.count >= count { stop.stop() }
        }
        return result
    }

    func expectLineage(_ read: StreamRead, fake: FakeStreams) {
        let shardOrder = read.records.map(\.shard)
        let lastParent = shardOrder.lastIndex(of: parent) ?? -1
        let firstChild = shardOrder.firstIndex { $0 != parent } ?? .max
        #expect(lastParent < firstChild, "every parent record comes before any child record: \(shardOrder)")
        for shard in [parent, childA, childB] {
            let seqs = read.sequences(of: shard)
            #expect(seqs == seqs.sorted { ($0.count, $0) < ($1.count, $1) }, "\(shard) in sequence order")
        }
        let all = read.records.map(\.seq)
        #expect(Set(all).count == all.count, "no record twice: \(all)")
    }

    @Test func readsShardsInLineageOrderAndFollowsASplitMidTail() async throws {
        let fake = try FakeStreams()
        let source = source(fake)
        #expect(source.id == "dynamodb-stream:" + fake.arn)
        let read = try await read(source, follow: true, count: fake.allSequences.count)
        #expect(Set(read.records.map(\.seq)) == Set(fake.allSequences))
        expectLineage(read, fake: fake)
        #expect(read.checkpoints[parent] == "closed:1000000000000000000104")
        #expect(read.checkpoints[childA] == "2000000000000000000203")
        #expect(read.checkpoints[childB] == "3000000000000000000302")
        // The parent's records end with a zero-record batch that marks it closed.
        let closing = try #require(read.batches.last { $0.partition == parent })
        #expect(closing.records.isEmpty)
        // Each batch holds the raw GetRecords body.
        #expect(read.batches.allSatisfy { String(decoding: $0.buffer, as: UTF8.self).hasPrefix("{\"Records\":[") })
        // Children were only asked for after the parent closed; child-b was described late.
        let log = fake.log
        let parentClosed = try #require(log.lastIndex { $0.hasPrefix("GetRecords \(parent)") })
        let firstChildCall = try #require(log.firstIndex { $0.contains("child-") })
        #expect(parentClosed < firstChildCall)
        #expect(log.contains("GetShardIterator \(childB) TRIM_HORIZON"))
    }

    @Test func aReadToTheTipEndsAndResumesFromPerShardCheckpoints() async throws {
        let fake = try FakeStreams()
        let first = try await read(source(fake))
        // Parent read and closed, child-a read to its tip; child-b not described yet.
        #expect(first.records.map(\.seq) == [
            "1000000000000000000101", "1000000000000000000102", "1000000000000000000103", "1000000000000000000104",
            "2000000000000000000201", "2000000000000000000202",
        ])
        #expect(first.checkpoints == [parent: "closed:1000000000000000000104", childA: "2000000000000000000202"])
        expectLineage(first, fake: fake)

        let callsBefore = fake.log.count
        let second = try await read(source(fake), after: first.checkpoints)
        let calls = fake.log.dropFirst(callsBefore)
        #expect(!calls.contains { $0.contains(parent) && !$0.hasPrefix("Describe") }, "a closed parent is not read again: \(Array(calls))")
        #expect(calls.contains("GetShardIterator \(childA) AFTER_SEQUENCE_NUMBER 2000000000000000000202"))
        let both = first.records.map(\.seq) + second.records.map(\.seq)
        #expect(Set(both).count == both.count, "nothing read twice across the restart")
        #expect(second.sequences(of: childA) == ["2000000000000000000203"])
        #expect(second.sequences(of: childB).first == "3000000000000000000301")
    }

    @Test func anExpiredIteratorIsMadeAgainFromTheCheckpoint() async throws {
        let fake = try FakeStreams(startPoll: 10)
        fake.expireAt = [parent: 11]
        let read = try await read(source(fake))
        #expect(read.records.map(\.seq).filter { $0.hasPrefix("1") } == [
            "1000000000000000000101", "1000000000000000000102", "1000000000000000000103", "1000000000000000000104",
        ])
        #expect(fake.log.contains("GetShardIterator \(parent) AFTER_SEQUENCE_NUMBER 1000000000000000000102"))
        #expect(Set(read.records.map(\.seq)) == Set(fake.allSequences))
        expectLineage(read, fake: fake)
    }

    @Test func aTrimmedShardIsReportedAsAGapAndReadFromItsTrimHorizon() async throws {
        let fake = try FakeStreams(startPoll: 10)
        fake.trimmed = [parent: 2]
        let gaps = GapLog()
        let read = try await read(source(fake), after: [parent: "1000000000000000000100"], gaps: gaps)
        #expect(gaps.all.map(\.0) == [parent])
        #expect(gaps.all.first?.1.contains("trimmed") == true)
        #expect(fake.log.contains("GetShardIterator \(parent) TRIM_HORIZON"))
        #expect(read.sequences(of: parent) == ["1000000000000000000103", "1000000000000000000104"])
        #expect(read.checkpoints[parent] == "closed:1000000000000000000104")
        expectLineage(read, fake: fake)
    }

    @Test func aCheckpointedShardTrimmedAwayIsReportedAsAGap() async throws {
        let fake = try FakeStreams(startPoll: 10)
        let gaps = GapLog()
        let gone = "shardId-00000000-trimmed-grandparent"
        let read = try await read(source(fake), after: [gone: "500", "shardId-old-closed": "closed:7"], gaps: gaps)
        #expect(gaps.all.map(\.0) == [gone])
        #expect(Set(read.records.map(\.seq)) == Set(fake.allSequences))
    }

    @Test func aShardTrimmedAwayWhileReadingIsReportedAndItsChildrenRead() async throws {
        // child-a vanishes after the first full description (two pages), before it is read.
        let fake = try FakeStreams(startPoll: 10)
        fake.goneAfterDescribes = ([childA], 2)
        let gaps = GapLog()
        let read = try await read(source(fake), gaps: gaps)
        #expect(gaps.all.map(\.0) == [childA])
        #expect(read.sequences(of: childA).isEmpty)
        #expect(read.sequences(of: parent).count == 4)
        #expect(read.sequences(of: childB).count == 2)
    }

    @Test func describePagesAreFollowedAndAMissingParentCountsAsFinished() async throws {
        // The parent's own parent is not in the description (trimmed): the parent is read at once.
        let fake = try FakeStreams(startPoll: 10)
        let read = try await read(source(fake))
        #expect(read.records.first?.shard == parent)
        #expect(fake.log.filter { $0 == "DescribeStream" }.count >= 2, "three shards at two a page take two DescribeStream calls")
        #expect(Set(read.records.map(\.seq)) == Set(fake.allSequences))
    }

    // MARK: moto

    @Test func motoStreamYieldsTheRemoveWithItsOldImage() async throws {
        let server = try await MotoServer.shared()
        let settings = server.settings()
        let dynamo = DynamoDBClient(settings: settings)
        let streams = DynamoDBStreamsClient(settings: settings)
        let table = MotoServer.uniqueName("streams")
        try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "PK", keyType: "HASH"), DynamoDBKeyElement(attributeName: "SK", keyType: "RANGE")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S"), DynamoDBAttributeDefinition(attributeName: "SK", attributeType: "S")],
            streamViewType: "NEW_AND_OLD_IMAGES")
        try await dynamo.putItem(table: table, itemJSON: Array(#"{"PK":{"S":"USER#1"},"SK":{"S":"PROFILE"},"n":{"N":"1"}}"#.utf8))
        try await dynamo.putItem(table: table, itemJSON: Array(#"{"PK":{"S":"USER#2"},"SK":{"S":"PROFILE"},"n":{"N":"2"}}"#.utf8))
        try await dynamo.putItem(
            table: table, itemJSON: Array(#"{"PK":{"S":"USER#1"},"SK":{"S":"PROFILE"},"n":{"N":"12345678901234567890123456789012345678"}}"#.utf8))
        try await dynamo.deleteItem(table: table, keyJSON: Array(#"{"PK":{"S":"USER#1"},"SK":{"S":"PROFILE"}}"#.utf8))

        var source = try await DynamoDBStreamsSource.table(table, dynamoDB: dynamo, streams: streams)
        source.minimumBackoff = 0.01
        #expect(source.keyOrder == ["PK", "SK"])
        #expect(source.id.hasPrefix("dynamodb-stream:arn:"))
        let read = try await read(source)
        var events: [EventName] = []
        var removes: [(ScannedRecord, [UInt8])] = []
        for batch in read.batches {
            for range in batch.records {
                let bytes = Array(batch.buffer[range])
                let scanned = try RecordScanner().scan(bytes)
                events.append(scanned.eventName)
                if scanned.eventName == .remove { removes.append((scanned, bytes)) }
            }
        }
        #expect(events == [.insert, .insert, .modify, .remove])
        let (remove, bytes) = try #require(removes.first)
        #expect(remove.hasOldImage)
        #expect(remove.keys.map(\.value) == ["USER#1", "PROFILE"])
        let oldImage = String(decoding: bytes[try #require(remove.oldImageRange)], as: UTF8.self)
        #expect(oldImage.contains("12345678901234567890123456789012345678"))
        #expect(read.checkpoints.count == 1)

        // Resuming after the checkpoint yields nothing new.
        let again = try await self.read(source, after: read.checkpoints)
        #expect(again.records.isEmpty)
    }

    @Test func aTableWithoutAStreamIsRefusedWithAClearError() async throws {
        let server = try await MotoServer.shared()
        let dynamo = DynamoDBClient(settings: server.settings())
        let table = MotoServer.uniqueName("nostream")
        try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "PK", keyType: "HASH")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S")])
        do {
            _ = try await DynamoDBStreamsSource.table(table, dynamoDB: dynamo, streams: DynamoDBStreamsClient(settings: server.settings()))
            Issue.record("a table without a stream was accepted")
        } catch {
            #expect("\(error)".contains("NEW_AND_OLD_IMAGES"))
        }
    }
}
