import ArchiverAWS
import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// The whole pipeline (source → gzip → folder store → checkpoints) following the fake stream of
/// `fixtures/streams/shard-graph.json` while its parent shard splits in two, one child appearing late.
@Suite struct StreamSplitPipelineTests {
    @Test func aFollowingTailArchivesEveryShardOfASplitOnceAndCheckpointsEach() async throws {
        let fake = try FakeStreams()
        var source = DynamoDBStreamsSource(streamARN: fake.arn, keyOrder: ["PK", "SK"], client: fake.client())
        source.minimumBackoff = 0.005
        source.maximumBackoff = 0.02
        source.describeInterval = 0.02
        let folder = TemporaryFolder("split")
        defer { folder.remove() }
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        let total = fake.allSequences.count
        let stop = StopSignal()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(180))
            stop.stop()
        }
        defer { watchdog.cancel() }
        let pipeline = ArchivePipeline(
            source: source, store: try LocalArchiveStore(path: folder("archive")), checkpoints: checkpoints,
            deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: TailOptions(follow: true),
            progress: { summary in if summary.archived >= total { stop.stop() } })
        let summary = try await pipeline.run(stop: stop)
        #expect(summary.archived == total)
        #expect(summary.deadLettered == 0)

        let objects = folder.files(under: "archive").filter { $0.hasSuffix(".json.gz") }
        #expect(objects.compactMap(SampleFeedIndex.sequence(inKey:)).sorted() == fake.allSequences.sorted())
        let saved = try checkpoints.checkpoints(source: source.id)
        #expect(saved["shardId-00000001-parent"] == "closed:1000000000000000000104")
        #expect(saved["shardId-00000002-child-a"] == "2000000000000000000203")
        #expect(saved["shardId-00000003-child-b"] == "3000000000000000000302")

        // A restart from those checkpoints archives nothing again.
        let again = ArchivePipeline(
            source: source, store: try LocalArchiveStore(path: folder("archive")), checkpoints: checkpoints,
            deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: TailOptions(follow: false))
        #expect(try await again.run(stop: StopSignal()).archived == 0)
        #expect(folder.files(under: "archive").filter { $0.hasSuffix(".json.gz") }.count == total)
    }

    @Test func aBatchedTailWritesAFinishedShardsObjectAtOnceAndHoldsTheOpenShards() async throws {
        let fake = try FakeStreams()
        var source = DynamoDBStreamsSource(streamARN: fake.arn, keyOrder: ["PK", "SK"], client: fake.client())
        source.minimumBackoff = 0.005
        source.maximumBackoff = 0.02
        source.describeInterval = 0.02
        let folder = TemporaryFolder("split-batched")
        defer { folder.remove() }
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        let store = try LocalArchiveStore(path: folder("archive"))
        var options = TailOptions(follow: true)
        options.layout = try await LayoutManifest.prepare(store, requested: .batched)
        let parent = fake.allSequences.filter { $0.hasPrefix("1") }.count
        let stop = StopSignal()
        let watchdog = Task {
            try await Task.sleep(for: .seconds(180))
            stop.stop()
        }
        defer { watchdog.cancel() }
        // Following: the parent's object is written when the shard ends, though its records fill no object.
        let pipeline = ArchivePipeline(
            source: source, store: store, checkpoints: checkpoints, deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: options,
            progress: { summary in if summary.archived >= parent { stop.stop() } })
        let first = try await pipeline.run(stop: stop)
        #expect(first.archived == parent && first.objects == 1)
        let saved = try checkpoints.checkpoints(source: source.id)
        #expect(saved["shardId-00000001-parent"] == "closed:1000000000000000000104")
        let keys = { () async throws -> [String] in
            var keys: [String] = []
            for try await page in BatchedArchive(store: store).indexes(prefix: "") { keys += page.flatMap { $0.index.entries.map(\.key) } }
            return keys
        }
        #expect(try await keys().compactMap(SampleFeedIndex.sequence(inKey:)).allSatisfy { $0.hasPrefix("1") })

        // The rest, to the end: every record once.
        options.follow = false
        let rest = ArchivePipeline(
            source: source, store: store, checkpoints: checkpoints, deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: options)
        let second = try await rest.run(stop: StopSignal())
        #expect(first.archived + second.archived == fake.allSequences.count && second.held == 0)
        #expect(try await keys().compactMap(SampleFeedIndex.sequence(inKey:)).sorted() == fake.allSequences.sorted())
    }

    @Test func aShardTrimmedBeforeItWasReadIsRecordedAsAGapInTheStateFolder() async throws {
        let fake = try FakeStreams(startPoll: 10)
        fake.trimmed = ["shardId-00000001-parent": 2]
        var source = DynamoDBStreamsSource(streamARN: fake.arn, keyOrder: ["PK", "SK"], client: fake.client())
        source.minimumBackoff = 0.005
        source.maximumBackoff = 0.02
        let folder = TemporaryFolder("gap")
        defer { folder.remove() }
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        // Stopped after the parent's first record; its next two were trimmed from the stream meanwhile.
        try checkpoints.save(source: source.id, partition: "shardId-00000001-parent", position: "1000000000000000000100")
        let pipeline = ArchivePipeline(
            source: source, store: try LocalArchiveStore(path: folder("archive")), checkpoints: checkpoints,
            deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: TailOptions(follow: false))
        let summary = try await pipeline.run(stop: StopSignal())
        #expect(summary.gaps == 1)
        let gaps = try checkpoints.gaps()
        #expect(gaps.map(\.source) == [source.id])
        #expect(gaps.map(\.partition) == ["shardId-00000001-parent"])
        #expect(gaps.first?.detail.contains("trimmed") == true)
        #expect(summary.archived == fake.allSequences.count - 2, "every record but the two trimmed ones")
    }
}
