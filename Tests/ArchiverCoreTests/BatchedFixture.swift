import ArchiverCore
import Foundation
import Testing
import TestSupport

/// A sample feed archived by the real pipeline from a JSON-lines file, per-record or batched, into folders of
/// one temporary folder; and what the tests read back from a batched archive.
struct BatchedFixture {
    let folder: TemporaryFolder
    let counts: SampleFeed.Counts
    let feed: String

    init(records: Int = 3000, label: String = "batched") throws {
        folder = TemporaryFolder(label)
        feed = folder("feed.jsonl")
        counts = try SampleFeed.write(0..<records, to: feed)
    }

    /// Small limits, so a few thousand sample records make many objects and meet every cut rule.
    static let small = BatchLimits(maxBytes: 24 * 1024, maxRecords: 40, minBytes: 6 * 1024, window: 3600)

    /// Runs a tail of the feed into `archive` with state `state`.
    @discardableResult
    func tail(
        _ archive: String, state: String, layout: ArchiveLayout = .batched, limits: BatchLimits = BatchedFixture.small, chunkSize: Int = 64 * 1024,
        workers: Int = 2, stop: StopSignal = StopSignal(), store: (any ArchiveStore)? = nil,
        actions: DeletionActions? = nil, progress: (@Sendable (TailSummary) -> Void)? = nil
    ) async throws -> TailSummary {
        let folderStore = try LocalArchiveStore(path: folder(archive))
        let target = store ?? folderStore
        var options = TailOptions(workers: workers, maximumBackoff: 0.01)
        options.layout = try await LayoutManifest.prepare(target, requested: layout)
        options.batching = limits
        let pipeline = ArchivePipeline(
            source: JSONLinesSource(path: feed, chunkSize: chunkSize), store: target, checkpoints: try CheckpointStore(stateFolder: folder(state)),
            deadLetters: try DeadLetterFolder(stateFolder: folder(state)), options: options, actions: actions, progress: progress)
        return try await pipeline.run(stop: stop)
    }

    /// Every file of an archive folder with its bytes, by relative path.
    func tree(_ archive: String) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        for name in folder.files(under: archive) {
            result[name] = Array(try Data(contentsOf: URL(fileURLWithPath: folder(archive) + "/" + name)))
        }
        return result
    }

    /// Every index of a batched archive, read.
    static func indexes(_ store: any ArchiveStore) async throws -> [BatchedArchive.ReadIndex] {
        var result: [BatchedArchive.ReadIndex] = []
        for try await page in BatchedArchive(store: store).indexes(prefix: "") { result += page }
        return result
    }

    /// The record keys every index lists (a key listed twice appears twice).
    static func listedKeys(_ store: any ArchiveStore) async throws -> [String] {
        try await indexes(store).flatMap { $0.index.entries.map(\.key) }
    }
}

/// A restore target that keeps what it is given: for testing restore above the target.
final class CollectingTarget: RestoreTarget, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var items: [RestoreItem] = []
    var location: String { "memory" }

    func restore(_ items: [RestoreItem], overwrite: Bool, dryRun: Bool) async throws -> [RestoreOutcome] {
        lock.withLock { self.items += items }
        return items.map { _ in .restored }
    }
}

/// A store that records every request and can fail the puts of keys matching a rule (`.failed`: the tail stops,
/// as when killed between two writes).
final class RequestLog: ArchiveStore, @unchecked Sendable {
    let inner: any ArchiveStore
    private let lock = NSLock()
    private(set) var requests: [String] = []
    /// Puts of a key for which this says true fail with `.failed` (the run stops there).
    var failPut: @Sendable (String) -> Bool = { _ in false }
    /// When set, writes and deletions after this many (each object or key counted) fail, as if the process had
    /// been killed there: nothing more changes.
    var mutationsAllowed: Int?
    private var mutations = 0

    /// Whether one more write or deletion may happen.
    private func mutate() -> Bool {
        lock.withLock {
            mutations += 1
            return mutationsAllowed.map { mutations <= $0 } ?? true
        }
    }

    /// Writes and deletions so far.
    var mutationCount: Int { lock.withLock { mutations } }

    init(_ inner: any ArchiveStore) { self.inner = inner }

    var location: String { inner.location }

    private func note(_ request: String) { lock.withLock { requests.append(request) } }

    /// Forgets the requests so far.
    func clear() { lock.withLock { requests.removeAll() } }

    func put(_ objects: [ArchiveObject]) async -> [Int: ArchiveStoreError] {
        objects.forEach { note("put \($0.key)") }
        var failures: [Int: ArchiveStoreError] = [:]
        var keep: [(Int, ArchiveObject)] = []
        for (i, object) in objects.enumerated() {
            if failPut(object.key) || !mutate() { failures[i] = .failed("stopped before \(object.key)") } else { keep.append((i, object)) }
        }
        for (j, error) in await inner.put(keep.map(\.1)) { failures[keep[j].0] = error }
        return failures
    }

    func get(_ key: String) async throws -> [UInt8] {
        note("get \(key)")
        return try await inner.get(key)
    }

    func get(_ key: String, range: Range<Int64>) async throws -> [UInt8] {
        note("get \(key) \(range.lowerBound)..<\(range.upperBound)")
        return try await inner.get(key, range: range)
    }

    func head(_ key: String) async throws -> StoredObject? { try await inner.head(key) }

    func list(prefix: String) -> AsyncThrowingStream<[StoredObject], any Error> {
        note("list \(prefix)")
        return inner.list(prefix: prefix)
    }

    func delete(_ keys: [String]) async throws {
        for key in keys {
            guard mutate() else { throw ArchiveStoreError.failed("stopped before deleting \(key)") }
            note("delete \(key)")
            try await inner.delete([key])
        }
    }
}
