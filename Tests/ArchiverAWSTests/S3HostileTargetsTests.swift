import ArchiverAWS
import ArchiverCore
import AWSClients
import Foundation
import Testing
import TestSupport

/// The hostile-targets corpus on a real bucket (moto): the same outcomes as on a folder, and no key outside the
/// root's prefix is touched.
@Suite("Hostile targets on a real bucket")
struct S3HostileTargetsTests {
    @Test func onlyTheSafeTargetsRunAndNothingElseIsTouched() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("hostile")
        try await s3.createBucket(bucket)
        let state = TemporaryFolder("s3-hostile-state")
        defer { state.remove() }
        func keys() async throws -> [String] {
            var keys: [String] = []
            for try await object in s3.listAllObjects(bucket: bucket) { keys.append(object.key) }
            return keys.sorted()
        }
        let expectations = try HostileTargets.expectations()
        let runs = expectations.flatMap(HostileTargets.contents(of:))
        for key in (HostileTargets.bait + runs).map({ "root/" + $0 }) + HostileTargets.outside {
            try await s3.putObject(bucket: bucket, key: key, body: Array(key.utf8))
        }

        let root = RootLocation.s3(bucket: bucket, prefix: "root/")
        let configuration = try HostileTargets.configuration(root: root)
        let checkpoints = try CheckpointStore(stateFolder: state("state"))
        let archive = S3ArchiveStore(client: s3, bucket: bucket, prefix: "archive")
        let pipeline = ArchivePipeline(
            source: JSONLinesSource(path: HostileTargets.records), store: archive, checkpoints: checkpoints,
            deadLetters: try DeadLetterFolder(stateFolder: state("state")), options: TailOptions(),
            actions: DeletionActions(rules: RuleSet(rules: configuration.rules, roots: configuration.roots), queue: configuration.queue))
        _ = try await pipeline.run(stop: StopSignal())
        let queue = QueueStore(checkpoints: checkpoints)
        #expect(try HostileTargets.problems(try queue.list(QueueFilter()), ran: false) == [])

        let worker = QueueWorker(
            store: queue, executors: [S3ActionExecutor(client: s3, archive: archive)], roots: configuration.roots, settings: configuration.queue,
            archive: .s3(bucket: bucket, prefix: "archive/"), stateFolder: state("state"))
        let done = try await worker.run(stop: StopSignal(), once: true)
        #expect(done.completed == expectations.count { $0.outcome == "run" } && done.parked == 0)
        #expect(try HostileTargets.problems(try queue.list(QueueFilter()), ran: true) == [])
        let left = try await keys().filter { !$0.hasPrefix("archive/") }
        #expect(left == ((HostileTargets.bait.map { "root/" + $0 }) + HostileTargets.outside).sorted())
        for key in left { #expect(try await s3.getObject(bucket: bucket, key: key) == Array(key.utf8), "\(key) changed") }
    }
}
