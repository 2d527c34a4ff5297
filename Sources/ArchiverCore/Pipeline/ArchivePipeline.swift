import Crypto
import Foundation
import Logging

/// How a tail runs.
public struct TailOptions: Sendable {
    /// Keep following the source for new records (false: stop at the end of what is there).
    public var follow: Bool
    /// Compression level for archive objects (1 to 12).
    public var gzipLevel: Int
    /// Threads that parse and compress.
    public var workers: Int
    /// Batches read ahead of the one being written (memory stays bounded by this).
    public var readAhead: Int
    /// How long to keep retrying an object the store refuses before dead-lettering it.
    public var rejectedAttempts: Int
    /// The longest wait between attempts while the store is unavailable.
    public var maximumBackoff: Double
    /// The longest record archived; a longer one is dead-lettered as `too-large` with its first bytes, its
    /// length and its SHA-256 (a JSON-lines source never even holds it whole).
    public var maxRecordBytes: Int
    /// How the archive holds records (the caller checks it against the archive's manifest: `LayoutManifest.prepare`).
    public var layout: ArchiveLayout = .perRecord
    /// Where a batched archive cuts its objects.
    public var batching = BatchLimits()

    /// 4 MiB. A DynamoDB item is at most 400 KB and a stream record holds at most two images of it; the
    /// Streams API hands out at most 1 MB in one GetRecords response, so no record it delivers is longer. Four
    /// times that leaves room for other producers' escaping and formatting, and keeps the tail's memory
    /// (a few batches of at most this much) well under its 100 MB bound.
    public static let defaultMaxRecordBytes = 4 << 20

    public init(follow: Bool = false, gzipLevel: Int = GzipEncoder.defaultLevel, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                readAhead: Int = 2, rejectedAttempts: Int = 3, maximumBackoff: Double = 30, maxRecordBytes: Int = TailOptions.defaultMaxRecordBytes) {
        self.maxRecordBytes = max(1, maxRecordBytes)
        self.follow = follow
        self.gzipLevel = gzipLevel
        self.workers = max(1, workers)
        self.readAhead = readAhead
        self.rejectedAttempts = rejectedAttempts
        self.maximumBackoff = maximumBackoff
    }
}

/// The archiver's pipeline: read a batch → classify, name and gzip its records on every core → write
/// the objects (durably) → write dead letters (durably) → save the checkpoint. Reading, compressing and
/// writing overlap; batches are committed strictly in order, so the checkpoint never passes a record
/// whose object or dead-letter entry is not durable.
public final class ArchivePipeline: Sendable {
    let source: any ChangeSource
    let store: any ArchiveStore
    let checkpoints: CheckpointStore
    let deadLetters: DeadLetterFolder
    let options: TailOptions
    let clock: any WallClock
    let logger: Logger
    let progress: (@Sendable (TailSummary) -> Void)?
    /// The deletion rules and the queue they fill; nil: no rules.
    let actions: DeletionActions?
    /// Where the pipeline stands (checkpoints, counts, rate, lag, last deletions), for whoever watches it.
    public let status = PipelineStatus()
    let metrics: PipelineMetrics

    public init(source: any ChangeSource, store: any ArchiveStore, checkpoints: CheckpointStore, deadLetters: DeadLetterFolder,
                options: TailOptions, clock: any WallClock = SystemClock(), logger: Logger = Logger(label: "archiver"),
                actions: DeletionActions? = nil, progress: (@Sendable (TailSummary) -> Void)? = nil) {
        self.actions = actions.flatMap { $0.rules.isEmpty ? nil : $0 }
        self.source = source
        self.store = store
        self.checkpoints = checkpoints
        self.deadLetters = deadLetters
        self.options = options
        self.clock = clock
        self.logger = logger
        self.progress = progress
        metrics = PipelineMetrics(source: source.id)
    }

    /// A batch with its records' outcomes.
    struct ProcessedBatch: Sendable {
        var batch: SourceBatch
        var outcomes: [RecordOutcome]
        /// Queue entries the rules planned, by record index (archived records only).
        var planned: [Int: [PlannedEntry]] = [:]
        /// The HMAC of each archived record's subject, by record index (records a subject rule takes only).
        var subjects: [Int: String] = [:]
        /// Not a batch: a clock tick, for a batched archive's `flushAfter`.
        var tick = false

        static var clockTick: ProcessedBatch {
            ProcessedBatch(batch: SourceBatch(buffer: [], records: [], positions: .labels([]), checkpoint: ""), outcomes: [], tick: true)
        }
    }

    /// Runs until the source ends (`follow` false) or `stop` is set; returns what was done. Gaps the source
    /// reports are recorded in the checkpoint store (table `gaps`) and counted in the summary.
    /// - Throws: when the store or the state folder needs attention (disk full, permission denied, bad
    ///   credentials); the checkpoint then stands at the last batch that was fully durable.
    public func run(stop: StopSignal) async throws -> TailSummary {
        let started = Date()
        let saved = try checkpoints.checkpoints(source: source.id)
        status.started(checkpoints: saved, at: clock.now())
        if !saved.isEmpty {
            logger.info("resuming after the checkpoint", metadata: ["source": "\(source.id)", "checkpoint.position": "\(source.describe(checkpoints: saved))"])
        }
        let read = AsyncBoundedQueue<SourceBatch>(capacity: options.readAhead)
        let processed = AsyncBoundedQueue<ProcessedBatch>(capacity: 1)
        let processors = ProcessorPool(
            count: options.workers, gzipLevel: options.gzipLevel, keyOrder: source.keyOrder, maxRecordBytes: options.maxRecordBytes,
            rules: actions.map { RuleContext(rules: $0.rules, source: source.id, sourceTable: source.table) })
        let gaps = GapTally()
        let batched = options.layout == .batched ? BatchedCommitter(pipeline: self, limits: options.batching) : nil
        try await batched?.prepare(saved: saved)
        let batches = source.batches(after: saved, follow: options.follow, stop: stop, onGap: { gap in
            gaps.add()
            self.record(gap)
        })

        let reader = Task {
            do {
                for try await batch in batches {
                    guard await read.send(batch) else { break }
                }
                read.close()
            } catch {
                read.close(throwing: error)
            }
        }
        let compressor = Task {
            do {
                while let batch = try await read.next() {
                    let (outcomes, planned, subjects) = await processors.process(batch)
                    guard await processed.send(ProcessedBatch(batch: batch, outcomes: outcomes, planned: planned, subjects: subjects)) else { break }
                }
                processed.close()
            } catch {
                processed.close(throwing: error)
            }
        }
        // A batched archive's objects open longer than `flushAfter` are written on a tick when the source is idle.
        let ticker = batched != nil ? options.batching.flushAfter.map { flushAfter in
            Task {
                while !stop.isStopped {
                    await stop.sleep(seconds: min(10, max(0.5, flushAfter / 4)))
                    guard !stop.isStopped, await processed.send(.clockTick) else { break }
                }
            }
        } : nil
        defer { ticker?.cancel() }
        var summary = TailSummary()
        do {
            while let item = try await processed.next() {
                if let batched {
                    summary += item.tick ? try await batched.flushAged(stop: stop) : try await batched.commit(item, stop: stop)
                } else {
                    summary += try await commit(item, stop: stop)
                }
                summary.seconds = Date().timeIntervalSince(started)
                progress?(summary)
            }
        } catch {
            read.close()
            processed.close()
            stop.stop()
            _ = await (reader.value, compressor.value)
            _ = try? await batched?.drain()
            throw error
        }
        _ = await (reader.value, compressor.value)
        if let batched {
            // The end of the input (`--once`): every object is complete. When stopped, open objects are left for the
            // next run, which reads their records again and cuts them where a run that was never stopped does.
            if !stop.isStopped { summary += try await batched.finish(stop: stop) }
            summary += try await batched.drain()
            summary.objects = summary.objects ?? 0
            summary.held = batched.held
        }
        summary.seconds = Date().timeIntervalSince(started)
        summary.gaps = gaps.value
        return summary
    }

    /// Writes a gap the source reported into the state folder (table `gaps`); a failure to is logged, not fatal.
    func record(_ gap: SourceGap) {
        do {
            try checkpoints.recordGap(source: source.id, partition: gap.partition, detail: gap.detail, at: clock.now())
        } catch {
            logger.error("could not record a gap in the state folder: \(error)", metadata: ["source": "\(source.id)", "partition": "\(gap.partition)"])
        }
    }

    /// Makes one batch durable, then saves its checkpoint.
    func commit(_ item: ProcessedBatch, stop: StopSignal) async throws -> TailSummary {
        let batch = item.batch
        let commitStarted = Date()
        var modifies = 0
        var summary = TailSummary()
        summary.read = batch.records.count
        summary.bytes = Int64(batch.records.reduce(0) { $0 + $1.count })
        for (index, oversized) in batch.oversized {
            // The batch holds only the first bytes of an oversized record; all of it was read.
            summary.bytes += oversized.length - Int64(batch.records[index].count)
        }
        var objects: [ArchiveObject] = []
        var objectRecord: [Int] = []
        var letters: [DeadLetter] = []
        let now = clock.now()

        func deadLetter(_ index: Int, reason: String, code: String) {
            let range = batch.records[index]
            var letter: DeadLetter
            if let oversized = batch.oversized[index] {
                // The source kept only the record's first bytes.
                letter = DeadLetter(
                    source: source.id, partition: batch.partition, position: batch.position(of: index), file: batch.file,
                    reason: reason, code: code, raw: Array(batch.buffer[range]), at: now)
                letter.recordBytes = oversized.length
                letter.recordSHA256 = oversized.sha256
            } else if range.count > options.maxRecordBytes {
                // Read whole by its source, but too long to keep whole in an entry.
                letter = DeadLetter(
                    source: source.id, partition: batch.partition, position: batch.position(of: index), file: batch.file,
                    reason: reason, code: code, raw: Array(batch.buffer[range.prefix(JSONLinesSource.oversizedPrefixBytes)]), at: now)
                letter.recordBytes = Int64(range.count)
                letter.recordSHA256 = batch.buffer.withUnsafeBytes { hex(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: $0[range]))) }
            } else {
                letter = DeadLetter(
                    source: source.id, partition: batch.partition, position: batch.position(of: index), file: batch.file,
                    reason: reason, code: code, raw: Array(batch.buffer[range]), at: now)
            }
            letters.append(letter)
        }

        let suppressed = try suppressedRecords(item)
        for (index, outcome) in item.outcomes.enumerated() {
            switch outcome {
            case .archive(let object, let kind):
                if suppressed.contains(index) {
                    // The subject is erased: the record is not archived (counted, and its rules' actions not queued).
                    summary.suppressed = (summary.suppressed ?? 0) + 1
                    continue
                }
                objects.append(object)
                objectRecord.append(index)
                if kind == .ttl { summary.archivedTTL += 1 } else { summary.archivedManual += 1 }
                summary.archivedBytes += Int64(object.body.count)
            case .passOver(let event):
                summary.passedOver += 1
                if event == .modify { modifies += 1 }
            case .deadLetter(let error):
                deadLetter(index, reason: error.description, code: error.code)
            }
        }

        let refused = try await write(objects, stop: stop)
        for (objectIndex, error) in refused.sorted(by: { $0.key < $1.key }) {
            let recordIndex = objectRecord[objectIndex]
            if case .archive(_, let kind) = item.outcomes[recordIndex] {
                if kind == .ttl { summary.archivedTTL -= 1 } else { summary.archivedManual -= 1 }
            }
            summary.archivedBytes -= Int64(objects[objectIndex].body.count)
            deadLetter(recordIndex, reason: "the archive store refused the object \(objects[objectIndex].key): \(error)", code: "write-failed")
            logger.error("dead-lettered a record the store refused", metadata: ["s3.key": "\(objects[objectIndex].key)", "error": "\(error)"])
        }
        summary.archived = summary.archivedManual + summary.archivedTTL
        summary.deadLettered = letters.count

        try await deadLetters.write(letters)
        let writes = commitWrites(item, refused: Set(refused.keys.map { objectRecord[$0] }), suppressed: suppressed)
        try await writeSubjectIndexObjects(writes.writes, stop: stop)
        if actions != nil {
            summary.actionsEnqueued = writes.enqueued
            summary.actionsParked = writes.parked
        }
        do {
            try checkpoints.commit(BatchCommit(source: source.id, partition: batch.partition, position: batch.checkpoint, at: now, writes: writes.writes))
        } catch let error as StateError where error.kind == .damaged {
            throw error
        } catch {
            // The store's error already names the database and what to do; add what the archive holds.
            throw StateError.unusable("\(error). Nothing is lost: the archive holds everything so far, and the next run replays from the previous checkpoint and writes the same objects")
        }
        report(summary, batch: batch, objects: objects, refused: refused, modifies: modifies, letters: letters, started: commitStarted, at: clock.now())
        return summary
    }

    /// The commit-writes hook: the rows this batch adds to the state database in the transaction that saves its
    /// checkpoint (``CommitWrite``), built from the processed batch once its objects and dead letters are durable.
    ///
    /// Each feature appends its write here: deletion queue entries (below); coordinations and outbox events,
    /// subject-index rows and batched-layout index rows add theirs the same way. Only archived records count:
    /// `refused` holds the indexes of records whose object the store refused (they were dead-lettered instead), and
    /// the rules were evaluated for archived records only.
    func commitWrites(_ item: ProcessedBatch, refused: Set<Int>, suppressed: Set<Int> = []) -> (writes: [any CommitWrite], enqueued: Int, parked: Int) {
        guard actions != nil else { return ([], 0, 0) }
        let skipped = refused.union(suppressed)
        var result: (writes: [any CommitWrite], enqueued: Int, parked: Int) = item.planned.isEmpty ? ([], 0, 0) : queueWrites(item.planned.keys.sorted().filter { !skipped.contains($0) }.flatMap { item.planned[$0]! })
        let marks = item.subjects.keys.sorted().filter { !skipped.contains($0) }.compactMap { index -> SubjectMark? in
            guard case .archive(let object, _) = item.outcomes[index] else { return nil }
            return SubjectMark(hmac: item.subjects[index]!, archiveKey: object.key)
        }
        if !marks.isEmpty { result.writes.append(SubjectIndexWrite(marks: marks)) }
        return result
    }

    /// Writes the archive's subject index objects (``SubjectIndexObjects``) for the subject-index rows among `writes`,
    /// before the checkpoint that commits them: a kill leaves an object a replay writes again (same bytes) or one a
    /// rebuild reads without harm. An object the store keeps refusing is logged and left out: the state database
    /// has the rows, and a rebuild elsewhere reads those records instead.
    func writeSubjectIndexObjects(_ writes: [any CommitWrite], stop: StopSignal) async throws {
        guard let key = actions?.rules.subjectKey else { return }
        let marks = writes.lazy.compactMap { $0 as? SubjectIndexWrite }.flatMap(\.marks)
        guard !marks.isEmpty else { return }
        let objects = SubjectIndexObjects.objects(for: Array(marks), keyID: key.id)
        for (index, error) in try await write(objects, stop: stop) {
            logger.warning("the archive refused a subject index object; the state folder's index has its rows",
                           metadata: ["s3.key": "\(objects[index].key)", "error": "\(error)"])
        }
    }

    /// The records of a batch whose subject is erased (suppressed): they are not archived. Read in one query, and
    /// only for a batch holding records of subjects.
    func suppressedRecords(_ item: ProcessedBatch) throws -> Set<Int> {
        guard !item.subjects.isEmpty, try checkpoints.anySuppressed() else { return [] }
        let erased = try checkpoints.suppressed(among: Set(item.subjects.values))
        guard !erased.isEmpty else { return [] }
        return Set(item.subjects.filter { erased.contains($0.value) }.keys)
    }

    /// The deletion-queue write for entries of archived records (none when there are none or no rules).
    func queueWrites(_ entries: [PlannedEntry]) -> (writes: [any CommitWrite], enqueued: Int, parked: Int) {
        guard let actions, !entries.isEmpty else { return ([], 0, 0) }
        return (
            QueueEnqueue.writes(entries: entries, maxAttempts: actions.queue.maxAttempts, delay: actions.queue.delay.seconds),
            entries.count, entries.count { $0.unsafe != nil }
        )
    }

    /// Writes objects, waiting out an unavailable store (backoff, never dropping anything). Returns the
    /// objects the store kept refusing after `rejectedAttempts`. Throws when the store needs attention,
    /// or when asked to stop while the store is still unavailable (the batch is then not checkpointed).
    func write(_ objects: [ArchiveObject], stop: StopSignal) async throws -> [Int: ArchiveStoreError] {
        var pending = Array(objects.indices)
        var refused: [Int: ArchiveStoreError] = [:]
        var rejectedTries: [Int: Int] = [:]
        var waits = 0
        while !pending.isEmpty {
            let failures = await store.put(pending.map { objects[$0] })
            var again: [Int] = []
            var unavailable: ArchiveStoreError?
            var rejectedAgain = 0
            for (position, error) in failures {
                let index = pending[position]
                if error.isFailed { throw error }
                if error.isRejected {
                    rejectedTries[index, default: 0] += 1
                    if rejectedTries[index]! >= options.rejectedAttempts {
                        refused[index] = error
                        continue
                    }
                    rejectedAgain += 1
                } else {
                    unavailable = error
                }
                again.append(index)
            }
            pending = again.sorted()
            guard !pending.isEmpty else { break }
            metrics.retried(unavailable: pending.count - rejectedAgain, rejected: rejectedAgain)
            if let unavailable {
                waits += 1
                let delay = min(options.maximumBackoff, 0.2 * pow(2, Double(min(waits, 10)))) * Double.random(in: 0.5...1)
                logger.warning("the archive store is unavailable; waiting and retrying (nothing is lost, the checkpoint waits)",
                               metadata: ["store": "\(store.location)", "objects.pending": "\(pending.count)", "retry.attempt": "\(waits)",
                                          "retry.delay": "\(String(format: "%.1f", delay))s", "error": "\(unavailable)"])
                if stop.isStopped && waits > 3 {
                    throw ArchiveStoreError.unavailable("stopped while the archive store was unavailable (\(unavailable)); \(pending.count) records of the last batch will be replayed on the next run")
                }
                let waitStarted = Date()
                await stop.sleep(seconds: delay)
                metrics.waited(seconds: Date().timeIntervalSince(waitStarted))
            }
        }
        return refused
    }
}

/// Gaps the source reported during a run.
private final class GapTally: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

/// One `RecordProcessor` per worker thread; a batch is cut into contiguous runs, one per worker.
final class ProcessorPool: @unchecked Sendable {
    private let processors: [RecordProcessor]
    private let maxRecordBytes: Int

    private let rules: RuleContext?
    /// Each worker's planned entries, by record index (only workers that planned any write here).
    private let planned: [PlannedSlot]

    init(count: Int, gzipLevel: Int, keyOrder: [String]?, maxRecordBytes: Int = TailOptions.defaultMaxRecordBytes, rules: RuleContext? = nil) {
        processors = (0..<count).map { _ in RecordProcessor(gzipLevel: gzipLevel, keyOrder: keyOrder) }
        self.maxRecordBytes = maxRecordBytes
        self.rules = rules
        planned = (0..<count).map { _ in PlannedSlot() }
    }

    func process(_ batch: SourceBatch) async -> ([RecordOutcome], [Int: [PlannedEntry]], [Int: String]) {
        await runBlocking { self.processBlocking(batch) }
    }

    private func processBlocking(_ batch: SourceBatch) -> ([RecordOutcome], [Int: [PlannedEntry]], [Int: String]) {
        let count = batch.records.count
        guard count > 0 else { return ([], [:], [:]) }
        let workers = min(processors.count, max(1, count / 16))
        let results = UnsafeMutableBufferPointer<RecordOutcome>.allocate(capacity: count)
        defer { results.deallocate() }
        let anyOversized = !batch.oversized.isEmpty
        let rules = self.rules
        batch.buffer.withUnsafeBytes { buffer in
            let shared = UnsafeSendable(buffer: buffer, results: results)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let processor = processors[worker]
                let slot = planned[worker]
                let start = count * worker / workers
                let end = count * (worker + 1) / workers
                for i in start..<end {
                    let range = batch.records[i]
                    let outcome: RecordOutcome
                    if anyOversized, let oversized = batch.oversized[i] {
                        outcome = .deadLetter(RecordError(.tooLarge(bytes: oversized.length, limit: maxRecordBytes)))
                    } else if range.count > maxRecordBytes {
                        outcome = .deadLetter(RecordError(.tooLarge(bytes: Int64(range.count), limit: maxRecordBytes)))
                    } else if rules != nil {
                        // Passed as the optional it is: unwrapping and rewrapping it would copy the rules for each record.
                        let (processed, entries, subject) = processor.processWithSubject(UnsafeRawBufferPointer(rebasing: shared.buffer[range]), rules: rules)
                        outcome = processed
                        if !entries.isEmpty { slot.entries[i] = entries }
                        if let subject { slot.subjects.append((i, subject)) }
                    } else {
                        outcome = processor.process(UnsafeRawBufferPointer(rebasing: shared.buffer[range]))
                    }
                    (shared.results.baseAddress! + i).initialize(to: outcome)
                }
            }
        }
        let outcomes = Array(results)
        _ = results.baseAddress!.deinitialize(count: count)
        guard rules != nil else { return (outcomes, [:], [:]) }
        var entries: [Int: [PlannedEntry]] = [:]
        var subjects: [Int: String] = [:]
        subjects.reserveCapacity(planned[..<workers].map(\.subjects.count).reduce(0, +))
        for slot in planned[..<workers] {
            entries.merge(slot.entries) { a, _ in a }
            slot.entries.removeAll()
            for (index, subject) in slot.subjects { subjects[index] = subject }
            slot.subjects.removeAll(keepingCapacity: true)
        }
        return (outcomes, entries, subjects)
    }
}

/// One worker thread's planned entries for the batch in hand; only that thread writes it while the batch is processed.
private final class PlannedSlot: @unchecked Sendable {
    var entries: [Int: [PlannedEntry]] = [:]
    /// The HMAC of each subject found, by record index, in record order.
    var subjects: [(Int, String)] = []
}

/// The deletion rules the pipeline applies, and the queue settings of the entries they plan.
public struct DeletionActions: Sendable {
    public var rules: RuleSet
    public var queue: QueueSettings

    public init(rules: RuleSet, queue: QueueSettings) {
        self.rules = rules
        self.queue = queue
    }
}

/// Buffers shared by the worker threads of one batch; each writes only its own slots.
private struct UnsafeSendable: @unchecked Sendable {
    let buffer: UnsafeRawBufferPointer
    let results: UnsafeMutableBufferPointer<RecordOutcome>
}
