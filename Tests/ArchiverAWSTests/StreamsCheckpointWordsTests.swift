import ArchiverAWS
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// The resume log line gives a stream's checkpoints in words, as dead letters name a record.
@Suite struct StreamsCheckpointWordsTests {
    @Test func shardsBeingReadAndFinishedAreSaidInWords() throws {
        let fake = try FakeStreams()
        let source = DynamoDBStreamsSource(streamARN: fake.arn, keyOrder: ["PK", "SK"], client: fake.client())
        let words = source.describe(checkpoints: [
            "shardId-1": "closed:1000000000000000000104", "shardId-2": "2000000000000000000202", "shardId-3": "closed", "shardId-4": "",
        ])
        #expect(words.contains("shard shardId-1 finished (last sequence 1000000000000000000104)"), "\(words)")
        #expect(words.contains("shard shardId-2 after sequence 2000000000000000000202"), "\(words)")
        #expect(words.contains("shard shardId-3 finished (it held no records)"), "\(words)")
        #expect(words.contains("shard shardId-4 from its start"), "\(words)")
        #expect(!words.contains("closed:"), "\(words)")
        // A stream keeps many finished shards: they are counted, not listed.
        var many: [String: String] = ["shardId-open": "42"]
        for i in 0..<50 { many["shardId-done-\(i)"] = "closed:\(i)" }
        let counted = source.describe(checkpoints: many)
        #expect(counted == "shard shardId-open after sequence 42; 50 shards finished", "\(counted)")
    }
}
