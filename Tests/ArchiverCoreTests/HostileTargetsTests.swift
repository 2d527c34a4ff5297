import ArchiverCore
import Foundation
import Testing
import TestSupport

/// The hostile-targets corpus on a real folder: every unsafe target is parked with its reason and never run, every
/// safe one removes exactly its target, and nothing outside the root is touched.
@Suite("Hostile targets on a real folder")
struct HostileTargetsTests {
    @Test func onlyTheSafeTargetsRunAndNothingElseIsTouched() async throws {
        let base = TemporaryFolder("hostile-targets")
        let state = TemporaryFolder("hostile-targets-state")
        defer {
            base.remove()
            state.remove()
        }
        func write(_ path: String) throws {
            let url = URL(fileURLWithPath: base(path))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(path.utf8).write(to: url)
        }
        let expectations = try HostileTargets.expectations()
        #expect(expectations.count >= 40)
        let runs = expectations.flatMap(HostileTargets.contents(of:))
        for path in HostileTargets.bait + runs { try write("root/" + path) }
        for path in HostileTargets.outside { try write(path) }
        let outsideBefore = base.files().filter { !$0.hasPrefix("root/") }

        let root = RootLocation.folder(base("root"))
        let configuration = try HostileTargets.configuration(root: root)
        let checkpoints = try CheckpointStore(stateFolder: state("state"))
        let archive = try LocalArchiveStore(path: state("archive"), access: .create)
        let pipeline = ArchivePipeline(
            source: JSONLinesSource(path: HostileTargets.records), store: archive, checkpoints: checkpoints,
            deadLetters: try DeadLetterFolder(stateFolder: state("state")), options: TailOptions(),
            actions: DeletionActions(rules: RuleSet(rules: configuration.rules, roots: configuration.roots), queue: configuration.queue))
        let summary = try await pipeline.run(stop: StopSignal())
        #expect(summary.deadLettered == 1, "the record without an OldImage")
        let queue = QueueStore(checkpoints: checkpoints)
        #expect(try HostileTargets.problems(try queue.list(QueueFilter()), ran: false) == [])
        // Nothing ran yet.
        #expect(Set(base.files(under: "root")) == Set(HostileTargets.bait + runs))

        let worker = QueueWorker(
            store: queue, executors: [LocalFolderExecutor(archive: archive)], roots: configuration.roots, settings: configuration.queue,
            archive: .folder(state("archive")), stateFolder: state("state"))
        let done = try await worker.run(stop: StopSignal(), once: true)
        #expect(done.completed == expectations.count { $0.outcome == "run" } && done.parked == 0 && done.retrying == 0)
        #expect(try HostileTargets.problems(try queue.list(QueueFilter()), ran: true) == [])
        #expect(base.files(under: "root").sorted() == HostileTargets.bait.sorted(), "the root holds other than the bait")
        #expect(base.files().filter { !$0.hasPrefix("root/") } == outsideBefore, "something outside the root changed")
        for path in HostileTargets.outside { #expect(FileManager.default.contents(atPath: base(path)) == Data(path.utf8)) }
        // Parked entries stay parked: a second run claims nothing.
        #expect(try await worker.run(stop: StopSignal(), once: true).claimed == 0)
    }
}
