import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// An executor double for testing the worker above the executors: each target fails its first `failures[path]`
/// attempts (forever when negative), then completes; counts what it was given.
final class ScriptedExecutor: ActionExecutor, @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String: Int]
    private(set) var calls: [String] = []

    init(failures: [String: Int]) { self.failures = failures }

    func handles(_ root: RootLocation) -> Bool { true }

    func execute(_ actions: [PreparedAction]) async -> [ActionResult] {
        lock.withLock {
            actions.map { action in
                calls.append(action.target.path)
                let left = failures[action.target.path, default: 0]
                if left == 0 { return .completed(.object([("deleted", .integer(1))])) }
                failures[action.target.path] = left - 1
                return .failed(ActionFailure(code: "SlowDown", message: "S3 asked to slow down for \(action.target.path)", httpStatus: 503))
            }
        }
    }

    func restore(_ files: [KeptFile], overwrite: Bool) async -> [ActionResult] { [] }
}

@Suite("The queue worker")
struct QueueWorkerTests {
    static let roots = RootsConfiguration([NamedRoot(name: "files", location: QueueFixture.root)])

    func worker(_ queue: QueueFixture, _ executor: any ActionExecutor, roots: RootsConfiguration = roots, batch: Int = 100,
                archive: ArchiveLocation? = nil) -> QueueWorker {
        var settings = QueueSettings()
        settings.batchSize = batch
        return QueueWorker(
            store: queue.store, executors: [executor], roots: roots, settings: settings, clock: queue.clock, random: FixedRandom(value: 1),
            archive: archive)
    }

    @Test func failingActionsAreRetriedUntilTheyCompleteOrRunOutOfAttempts() async throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(6), maxAttempts: 3, at: queue.now)
        let executor = ScriptedExecutor(failures: ["f/1": 1, "f/2": 2, "f/3": -1])
        let worker = worker(queue, executor, batch: 4)
        var total = QueueRunSummary()
        for _ in 0..<10 {
            total += try await worker.run(stop: StopSignal(), once: true)
            queue.advance(3600)
        }
        let stats = try queue.store.stats()
        #expect(stats.counts[.completed] == 5 && stats.counts[.parked] == 1)
        #expect(total.completed == 5 && total.parked == 1 && total.retrying == 1 + 2 + 2)
        #expect(executor.calls.filter { $0 == "f/2" }.count == 3 && executor.calls.filter { $0 == "f/3" }.count == 3)
        let parked = try queue.store.list(QueueFilter(states: [.parked]))[0]
        #expect(parked.deletionTarget?.path == "f/3" && parked.errors.map(\.attempt) == [1, 2, 3])
        #expect(parked.lastError == "S3 asked to slow down for f/3" && parked.errors.last?.httpStatus == 503)
        #expect(stats.attempts == [1: 3, 2: 1, 3: 2])
    }

    @Test func aRootChangedOrRemovedSinceTheEntryWasMadeStopsIt() async throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(2), maxAttempts: 1, at: queue.now)
        let moved = RootsConfiguration([NamedRoot(name: "files", location: .folder("/srv/elsewhere"))])
        let executor = ScriptedExecutor(failures: [:])
        _ = try await worker(queue, executor, roots: moved, batch: 1).runBatch()
        _ = try await worker(queue, executor, roots: RootsConfiguration(), batch: 1).runBatch()
        let codes = try queue.store.list(QueueFilter(states: [.parked])).compactMap(\.lastErrorCode).sorted()
        #expect(codes == ["root-changed", "unknown-root"])
        #expect(executor.calls.isEmpty, "an entry ran against a root other than the one it was made for")
    }

    @Test func targetsAreCheckedAgainBeforeTheyRun() async throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        var entries = QueueFixture.planned(3)
        // Written as if an older archiver had let them through.
        entries[0].target = DeletionTarget.object(key: "../../etc/passwd", keep: false).json(rootLocation: QueueFixture.root)
        entries[1].target = DeletionTarget.prefix(prefix: "f/", minDepth: 2, keep: false).json(rootLocation: QueueFixture.root)
        entries[1].kind = .deletePrefix
        try queue.store.enqueue(entries, maxAttempts: 3, at: queue.now)
        let executor = ScriptedExecutor(failures: [:])
        let summary = try await worker(queue, executor).runBatch()
        #expect(summary.parked == 2 && summary.completed == 1)
        #expect(executor.calls == ["f/2"])
        for entry in try queue.store.list(QueueFilter(states: [.parked])) {
            #expect(entry.lastErrorCode == "unsafe-target", "\(entry.json.serialized)")
            #expect(entry.attempts == 1 && entry.lastError?.contains("never run") == true, "\(entry.json.serialized)")
        }
    }

    @Test func aRootReachingIntoTheArchiveIsNeverActedOn() async throws {
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        try queue.store.enqueue(QueueFixture.planned(1), maxAttempts: 3, at: queue.now)
        let executor = ScriptedExecutor(failures: [:])
        _ = try await worker(queue, executor, archive: .folder("/srv/files/archive")).runBatch()
        #expect(try queue.store.list(QueueFilter())[0].lastErrorCode == "root-overlaps-archive")
        #expect(executor.calls.isEmpty)
    }

    @Test func aRealFolderIsEmptiedByTheWorker() async throws {
        let folder = TemporaryFolder("worker-local")
        defer { folder.remove() }
        let queue = try QueueFixture()
        defer { queue.folder.remove() }
        let root = RootLocation.folder(folder("files"))
        var entries = QueueFixture.planned(150)
        for index in entries.indices {
            entries[index].target = DeletionTarget.object(key: "f/\(index)", keep: false).json(rootLocation: root)
            try FileManager.default.createDirectory(atPath: folder("files/f"), withIntermediateDirectories: true)
            try Data([1]).write(to: URL(fileURLWithPath: folder("files/f/\(index)")))
        }
        try Data([2]).write(to: URL(fileURLWithPath: folder("files/keep-me")))
        try queue.store.enqueue(entries, maxAttempts: 3, at: queue.now)
        let worker = worker(queue, LocalFolderExecutor(archive: nil), roots: RootsConfiguration([NamedRoot(name: "files", location: root)]), batch: 40)
        let summary = try await worker.run(stop: StopSignal(), once: true)
        #expect(summary.completed == 150 && summary.batches == 4)
        #expect(folder.files(under: "files") == ["keep-me"])
    }
}
