import Foundation

/// A run of records read from a source, in order, with the checkpoint that covers them.
///
/// Records are byte ranges into one shared buffer, so reading allocates per batch, not per record.
public struct SourceBatch: Sendable {
    /// Which independently ordered stream of the source the batch comes from: "" for a file or a table,
    /// a shard id for DynamoDB Streams. Checkpoints are kept per partition.
    public var partition: String
    /// The bytes the records are cut from.
    public var buffer: [UInt8]
    /// Each record's bytes within `buffer`.
    public var records: [Range<Int>]
    /// Where each record stands in the source, for dead-letter entries (e.g. "line 12 (byte 3450)").
    public var positions: RecordPositions
    /// The checkpoint to save once every record of the batch is archived, passed over or dead-lettered.
    public var checkpoint: String
    /// The file the records were read from, for a source that reads files (nil otherwise).
    public var file: SourceFile?
    /// Records longer than the source keeps whole, by index: the batch holds only their first bytes.
    public var oversized: [Int: OversizedRecord] = [:]
    /// True for a partition's last batch (a finished shard): no record will follow in it, so a batched archive
    /// closes the partition's open object here rather than holding it for a record that never comes.
    public var endsPartition = false

    public init(partition: String = "", buffer: [UInt8], records: [Range<Int>], positions: RecordPositions, checkpoint: String) {
        self.partition = partition
        self.buffer = buffer
        self.records = records
        self.positions = positions
        self.checkpoint = checkpoint
    }

    /// Where record `index` stands in its source.
    public func position(of index: Int) -> String {
        switch positions {
        case .lines(let firstLine, let baseOffset, let lineNumbers):
            let line = lineNumbers.isEmpty ? firstLine + index : lineNumbers[index]
            return "line \(line) (byte \(baseOffset + Int64(records[index].lowerBound)))"
        case .labels(let labels):
            return labels[index]
        }
    }
}

/// How a batch describes where its records stand.
public enum RecordPositions: Sendable {
    /// Lines of a file: the buffer starts at byte `baseOffset`; line numbers per record (1-based).
    case lines(firstLine: Int, baseOffset: Int64, lineNumbers: [Int])
    /// One label per record (a sequence number, a row id), ending in the number that grows along the partition.
    case labels([String])
}

/// Records a source could no longer supply: for example a shard's records trimmed from a stream (after 24 hours)
/// before they were read. What they held is lost to the archive; a gap says so, loudly, instead of nothing.
public struct SourceGap: Sendable, Equatable {
    /// The partition the records were lost from (a shard id; "" for a source of one partition).
    public var partition: String
    /// What was lost and why, for people: which partition, up to where it had been read.
    public var detail: String

    public init(partition: String, detail: String) {
        self.partition = partition
        self.detail = detail
    }
}

/// Where change records come from: a JSON-lines file, a SQLite change table, a DynamoDB stream.
///
/// The contract every source keeps (`ChangeSourceConformance` in the tests checks each point against each source):
/// - It reads in order: within a partition, records come in the order the feed holds them, each once, and
///   their positions grow (a file that is rotated or truncated starts its line numbers again).
/// - It resumes after a checkpoint it wrote itself: reading again after a batch's checkpoint yields exactly
///   the records after that batch, none repeated and none skipped. With no checkpoint it starts at the beginning.
/// - A replay is identical: a record read again (after a restart, a crash) has the same bytes and position,
///   so it makes the same archive object.
/// - It never yields a record it has not fully read (no partial last line), and each record is one whole
///   stream record (DESIGN.md §2).
/// - Records it can no longer supply are reported as gaps, never passed over in silence.
public protocol ChangeSource: Sendable {
    /// A stable name for this source, under which checkpoints are kept (e.g. `jsonl:/var/feed.jsonl`): the same
    /// for every run over the same feed, and different for different feeds.
    var id: String { get }

    /// The records after the given checkpoints (partition → checkpoint; empty on a first run), in batches.
    ///
    /// The stream ends when `follow` is false and everything there is has been read, or once `stop` is set; it
    /// throws when the feed cannot be read (the message names it and says what to do).
    /// - Parameters:
    ///   - checkpoints: checkpoints this source wrote (a batch's ``SourceBatch/checkpoint``), by partition.
    ///   - follow: keep waiting for new records (like `tail -F`); when false, finish at the end of what is there.
    ///   - stop: set when the process is asked to stop; the source finishes its current batch and ends.
    func batches(after checkpoints: [String: String], follow: Bool, stop: StopSignal) -> AsyncThrowingStream<SourceBatch, any Error>

    /// The same records, reporting each gap (records the source can no longer supply) to `onGap` as it is noticed,
    /// before any later batch of that partition is yielded.
    ///
    /// A source that cannot lose records (a file, a table) need not implement this: by default it reads as
    /// ``batches(after:follow:stop:)`` and reports nothing.
    func batches(
        after checkpoints: [String: String], follow: Bool, stop: StopSignal, onGap: @escaping @Sendable (SourceGap) -> Void
    ) -> AsyncThrowingStream<SourceBatch, any Error>

    /// The key attributes in key order, when the source knows the table's schema (nil: the order records list them).
    /// When given, every record's `Keys` names exactly these attributes.
    var keyOrder: [String]? { get }

    /// The table whose changes the source reads, when it reads exactly one (a DynamoDB stream): deletion rules take
    /// it as the table of records that do not name theirs (no `eventSourceARN`, as the Streams API delivers them).
    /// Nil by default: records name their table.
    var table: String? { get }

    /// Saved checkpoints (partition → checkpoint, as ``batches(after:follow:stop:)`` takes them) in words for
    /// people, the way dead letters give positions: e.g. `next line 74 (byte 67280) of /var/feed.jsonl (device
    /// 65024, inode 16252951)`. For the log line of a resumed run.
    func describe(checkpoints: [String: String]) -> String
}

extension ChangeSource {
    public var keyOrder: [String]? { nil }

    public var table: String? { nil }

    public func batches(
        after checkpoints: [String: String], follow: Bool, stop: StopSignal, onGap: @escaping @Sendable (SourceGap) -> Void
    ) -> AsyncThrowingStream<SourceBatch, any Error> {
        batches(after: checkpoints, follow: follow, stop: stop)
    }

    public func describe(checkpoints: [String: String]) -> String {
        checkpoints.sorted { $0.key < $1.key }.map { $0.key.isEmpty ? $0.value : "\($0.key): \($0.value)" }.joined(separator: "; ")
    }
}

/// Set once, read anywhere: asks long-running work to wind down.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public var isStopped: Bool { lock.withLock { stopped } }

    public func stop() {
        let toResume = lock.withLock {
            stopped = true
            defer { waiters.removeAll() }
            return waiters
        }
        for waiter in toResume { waiter.resume() }
    }

    /// Sleeps for `seconds`, returning early when stopped.
    public func sleep(seconds: Double) async {
        if isStopped { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) }
            group.addTask { await self.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    private func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = lock.withLock {
                    if stopped || Task.isCancelled { return true }
                    waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let toResume = lock.withLock {
                defer { waiters.removeAll() }
                return waiters
            }
            for waiter in toResume { waiter.resume() }
        }
    }
}
