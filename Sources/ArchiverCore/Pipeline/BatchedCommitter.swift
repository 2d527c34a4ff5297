import Crypto
import Foundation
import Logging

/// The commit stage of a batched archive, in place of `ArchivePipeline.commit` when the layout is batched.
///
/// Each partition of the source has at most one object open. A record is added to its partition's object, or
/// first closes it, by `BatchLimits` (day, size, count, event-time window): cut points depend only on the
/// sequence of records, never on the read batches they came in or on the clock. Closed objects are written
/// in this order: their names noted in the state folder (`pending`), the data objects (durable), their indexes
/// (durable: the index makes an object visible), the dead letters (durable), and last the checkpoint.
///
/// The open object holds the checkpoint back: it stays at the end of the source batch before the object's first
/// record, with the number of records after it that are already done (`BatchPosition.skip`), so a restart reads
/// again only the open object's records (and what shared their source batch) and begins the same object there.
///
/// Used by one task at a time (the pipeline's commit loop).
final class BatchedCommitter: @unchecked Sendable {
    private let pipeline: ArchivePipeline
    private let limits: BatchLimits
    private let newline: [UInt8]
    private var partitions: [String: Partition] = [:]
    private var saved: [String: String] = [:]
    /// Counts the source batches committed (a builder compares a batch's file once).
    private var batchNumber = 0
    /// When the manifest was last written (it is written again once a day; see `LayoutManifest.prepare`).
    private var manifestWritten: Double
    /// Writes closed objects while the commit goes on (see `BatchedWriter`).
    private var writer: BatchedWriter!
    /// Each partition's skip as last saved in the state folder (the writer's alone once reading began).
    private var savedSkip: [String: Int] = [:]
    /// A written object's buffer, kept for the next object (its pages stay mapped: no faults, no unmapping).
    private let spareLock = NSLock()
    private var spare: [UInt8]?

    /// The most bytes of closed objects held for the writer before the commit waits.
    static let backlog = 8 << 20
    /// The largest written object whose buffer is kept for the next: a kept buffer's pages stay resident.
    static let recycledBytes = 4 << 20

    /// Keeps the buffer of one written object for the next (a small one: its pages stay in memory).
    private func recycle(_ group: [Settlement]) {
        guard let builder = group.last(where: { !$0.objects.isEmpty })?.objects.last?.builder, builder.bytes <= Self.recycledBytes else { return }
        let buffer = builder.takeBuffer()
        spareLock.withLock { if spare == nil { spare = buffer } }
    }

    /// Where one partition stands.
    final class Partition {
        /// The checkpoint as saved (nil: none yet).
        var saved: String?
        /// Records after `saved` already done (in written objects, passed over, dead-lettered).
        var skip: Int
        /// Records read after `saved` in this run.
        var consumed = 0
        /// The end of the last source batch read: its checkpoint, and `consumed` then.
        var lastEnd: (checkpoint: String?, index: Int)
        var open: BatchBuilder?
        /// The index (after `saved`) of the open object's first record.
        var openStart = 0
        /// The end of the source batch before the one holding the open object's first record.
        var openAnchor: (checkpoint: String?, index: Int) = (nil, 0)
        /// Closed and not yet written.
        var closed: [BatchBuilder] = []

        init(saved: String?, skip: Int) {
            self.saved = saved
            self.skip = skip
            lastEnd = (saved, 0)
        }
    }

    init(pipeline: ArchivePipeline, limits: BatchLimits) {
        self.pipeline = pipeline
        self.limits = limits
        newline = newlineMember(gzipLevel: pipeline.options.gzipLevel)
        manifestWritten = pipeline.clock.now().timeIntervalSince1970
        // Objects are written while the next are filled until 8 MiB wait to be written; then the commit waits, so that
        // memory stays near what it was when each object was written before the next began (large objects overlap
        // nothing, and their cost per byte is small anyway).
        writer = BatchedWriter(backlog: Self.backlog) { [unowned self] group in
            let summary = try await self.write(group)
            self.recycle(group)
            return summary
        }
    }

    private var source: any ChangeSource { pipeline.source }
    private var logger: Logger { pipeline.logger }

    /// Reads the batch positions saved with the checkpoints, and deletes the objects a killed run wrote past its
    /// checkpoint (their records are read again now). Call before reading the source.
    func prepare(saved: [String: String]) async throws {
        self.saved = saved
        let positions = try pipeline.checkpoints.batchPositions(source: source.id)
        var cleared: [CheckpointStore.BatchStanding] = []
        for (partition, position) in positions.sorted(by: { $0.key < $1.key }) {
            if !position.pending.isEmpty {
                // Indexes first: a record is never listed without its object.
                let indexes = position.pending.filter { BatchedObjectName(indexKey: $0) != nil }
                try await pipeline.store.delete(indexes)
                try await pipeline.store.delete(position.pending.filter { BatchedObjectName(indexKey: $0) == nil })
                logger.info("deleted the objects the last run wrote past its checkpoint; their records are read again",
                            metadata: ["source": "\(source.id)", "partition": "\(partition)", "objects": "\(indexes.count)"])
                cleared.append(.init(partition: partition, checkpoint: nil, position: BatchPosition(skip: position.skip)))
            }
            partitions[partition] = Partition(saved: saved[partition], skip: position.skip)
            savedSkip[partition] = position.skip
        }
        try save(cleared, at: pipeline.clock.now())
    }

    /// Records held in objects still open (read again by the next run).
    var held: Int { partitions.values.reduce(0) { $0 + ($1.open?.count ?? 0) } }

    private func partition(_ name: String) -> Partition {
        if let partition = partitions[name] { return partition }
        let partition = Partition(saved: saved[name], skip: 0)
        partitions[name] = partition
        return partition
    }


    private func close(_ partition: Partition) {
        guard let open = partition.open else { return }
        partition.closed.append(open)
        partition.open = nil
    }

    /// Adds one source batch to its partition's objects; writes the objects it closed, its dead letters, and
    /// the checkpoint as far as the open object lets it go.
    func commit(_ item: ArchivePipeline.ProcessedBatch, stop: StopSignal) async throws -> TailSummary {
        let batch = item.batch
        let partition = partition(batch.partition)
        let now = pipeline.clock.now()
        var summary = TailSummary()
        var letters: [DeadLetter] = []
        let base = partition.consumed
        batchNumber += 1
        let suppressed = try pipeline.suppressedRecords(item)
        for (i, outcome) in item.outcomes.enumerated() where base + i >= partition.skip {
            summary.read += 1
            summary.bytes += batch.oversized[i]?.length ?? Int64(batch.records[i].count)
            switch outcome {
            case .archive(let object, let kind):
                if suppressed.contains(i) {
                    // The subject is erased: the record is not archived.
                    summary.suppressed = (summary.suppressed ?? 0) + 1
                    continue
                }
                guard let parts = RecordKeyParts(object.key) else {
                    letters.append(deadLetter(batch, i, reason: "no batched object can hold the key \(object.key)", code: "write-failed", at: now))
                    continue
                }
                let window = parts.secondsOfDay / limits.window
                if let open = partition.open, limits.mustCut(open, dayNumber: parts.dayNumber, window: window, length: object.body.count) {
                    close(partition)
                }
                if partition.open == nil {
                    partition.open = BatchBuilder(
                        day: parts.day, dayNumber: parts.dayNumber, window: window, openedAt: now.timeIntervalSince1970, newline: newline,
                        reserve: limits.maxBytes + 64 * 1024, buffer: spareLock.withLock { defer { spare = nil }; return spare })
                    partition.openStart = base + i
                    partition.openAnchor = partition.lastEnd
                }
                partition.open!.append(
                    member: object.body, key: object.key, secondsOfDay: parts.secondsOfDay, window: window, kind: kind,
                    place: RecordPlace(batch, i), batch: batchNumber, file: batch.file)
                if let entries = item.planned[i] { partition.open!.planned += entries }
                if let subject = item.subjects[i] { partition.open!.subjects.append((object.key, subject)) }
            case .passOver:
                summary.passedOver += 1
            case .deadLetter(let error):
                letters.append(deadLetter(batch, i, reason: error.description, code: error.code, at: now))
            }
        }
        partition.consumed += batch.records.count
        partition.lastEnd = (batch.checkpoint, partition.consumed)
        // A finished shard gets no more records: its object is complete (a replay reaches the same end).
        if batch.endsPartition { close(partition) }
        var touched = [partition]
        if let flushAfter = limits.flushAfter {
            for other in partitions.values where other.open.map({ now.timeIntervalSince1970 - $0.openedAt >= flushAfter }) ?? false {
                close(other)
                if other !== partition { touched.append(other) }
            }
        }
        summary.deadLettered = letters.count
        summary += try await settle(touched, letters: letters, stop: stop, at: now)
        return summary
    }

    /// Closes the objects open longer than `flushAfter` (wall clock) and writes them.
    func flushAged(stop: StopSignal) async throws -> TailSummary {
        guard let flushAfter = limits.flushAfter else { return TailSummary() }
        let now = pipeline.clock.now()
        let aged = partitions.values.filter { $0.open.map { now.timeIntervalSince1970 - $0.openedAt >= flushAfter } ?? false }
        guard !aged.isEmpty else { return TailSummary() }
        aged.forEach(close)
        logger.info("wrote objects open longer than \(ConfigurationDuration(seconds: flushAfter))", metadata: ["objects": "\(aged.count)"])
        return try await settle(aged, letters: [], stop: stop, at: now)
    }

    /// The end of the input (`--once`): closes and writes every open object.
    func finish(stop: StopSignal) async throws -> TailSummary {
        let open = partitions.values.filter { $0.open != nil }
        open.forEach(close)
        return try await settle(open, letters: [], stop: stop, at: pipeline.clock.now())
    }

    /// Hands what `touched` closed and the dead letters to the writer, with the checkpoints that follow them.
    private func settle(_ touched: [Partition], letters: [DeadLetter], stop: StopSignal, at now: Date) async throws -> TailSummary {
        let names = partitions.filter { entry in touched.contains { $0 === entry.value } }.map(\.key).sorted()
        var objects: [(partition: String, builder: BatchBuilder)] = []
        var standings: [CheckpointStore.BatchStanding] = []
        for name in names {
            let partition = partitions[name]!
            let hadPending = !partition.closed.isEmpty
            objects += partition.closed.map { (name, $0) }
            partition.closed = []
            let checkpoint: String?
            let skip: Int
            let shift: Int
            if partition.open != nil {
                (checkpoint, shift) = partition.openAnchor
                skip = partition.openStart - shift
            } else {
                (checkpoint, shift) = partition.lastEnd
                skip = max(0, partition.skip - shift)
            }
            if checkpoint != partition.saved || skip != partition.skip || hadPending {
                standings.append(.init(partition: name, checkpoint: checkpoint, position: BatchPosition(skip: skip)))
            }
            partition.saved = checkpoint
            partition.skip = skip
            partition.consumed -= shift
            partition.openStart -= shift
            partition.openAnchor.index -= shift
            partition.lastEnd.index -= shift
        }
        guard !objects.isEmpty || !letters.isEmpty || !standings.isEmpty else { return try writer.collect() }
        return try await writer.submit(Settlement(objects: objects, letters: letters, standings: standings, at: now, stop: stop))
    }

    /// Waits for every object handed to the writer to be written and its checkpoint saved.
    func drain() async throws -> TailSummary {
        try await writer.drain()
    }

    /// Writes settlements as one group: the objects' names noted as pending, the data objects, their indexes, the
    /// dead letters, then the checkpoints, with the rows of the written objects (queue entries, subject index,
    /// catalogue) in the same transaction.
    private func write(_ group: [Settlement]) async throws -> TailSummary {
        var summary = TailSummary()
        let stop = group.last!.stop
        let now = group.last!.at
        var letters = group.flatMap(\.letters)
        let level = pipeline.options.gzipLevel
        let objects = group.flatMap(\.objects).map { (partition: $0.partition, object: $0.builder.finish(gzipLevel: level), builder: $0.builder) }
        var planned: [PlannedEntry] = []
        var marks: [SubjectMark] = []
        var catalogue: [CatalogueRow] = []
        if !objects.isEmpty {
            // Noted before they are written: a run killed before the checkpoint moves has them deleted by the next.
            var pending: [CheckpointStore.BatchStanding] = []
            var keys: [String: [String]] = [:]
            for entry in objects { keys[entry.partition, default: []] += [entry.object.data.key, entry.object.index.key] }
            for (name, keys) in keys.sorted(by: { $0.key < $1.key }) {
                pending.append(.init(partition: name, checkpoint: nil, position: BatchPosition(skip: savedSkip[name] ?? 0, pending: keys)))
            }
            try save(pending, at: now)

            var refused: [Int: ArchiveStoreError] = [:]
            if pipeline.store is LocalArchiveStore {
                // A folder writes a call's objects whole (synced), then renames them into place in order: each object
                // before its index, with one pair of file-system syncs for both (a machine that stops between the
                // renames leaves an index the next start deletes with the other noted objects).
                let count = objects.count
                for (position, error) in try await pipeline.write(objects.map(\.object.data) + objects.map(\.object.index), stop: stop) {
                    refused[position % count] = refused[position % count] ?? error
                }
            } else {
                // S3 writes many objects at once, in no order: the objects first, then their indexes.
                refused = try await pipeline.write(objects.map(\.object.data), stop: stop)
                let written = objects.indices.filter { refused[$0] == nil }
                for (position, error) in try await pipeline.write(written.map { objects[$0].object.index }, stop: stop) {
                    refused[written[position]] = error
                }
            }
            for index in refused.keys.sorted() {
                try? await pipeline.store.delete([objects[index].object.index.key])
                try? await pipeline.store.delete([objects[index].object.data.key])
            }
            for (index, entry) in objects.enumerated() {
                if let error = refused[index] {
                    for record in entry.builder.records() {
                        let letter = DeadLetter(
                            source: source.id, partition: entry.partition, position: record.position, file: record.file,
                            reason: "the archive store refused the object \(entry.object.data.key): \(error)", code: "write-failed",
                            raw: record.raw, at: now)
                        letters.append(letter)
                    }
                    summary.deadLettered += entry.object.records
                    logger.error("dead-lettered the records of a batched object the store refused",
                                 metadata: ["s3.key": "\(entry.object.data.key)", "records": "\(entry.object.records)", "error": "\(error)"])
                } else {
                    summary.archived += entry.object.records
                    summary.archivedTTL += entry.object.ttl
                    summary.archivedManual += entry.object.records - entry.object.ttl
                    summary.archivedBytes += Int64(entry.object.data.body.count)
                    summary.objects = (summary.objects ?? 0) + 1
                    planned += entry.builder.planned
                    marks += entry.builder.subjects.map { SubjectMark(hmac: $0.hmac, archiveKey: $0.key, objectKey: entry.object.index.key) }
                    catalogue.append(entry.object.catalogue)
                }
            }
        }
        try await pipeline.deadLetters.write(letters)
        if now.timeIntervalSince1970 - manifestWritten >= 86_400 {
            manifestWritten = now.timeIntervalSince1970
            do {
                try await LayoutManifest.write(pipeline.store)
            } catch {
                logger.warning("could not write the archive's manifest again; the next start writes it", metadata: ["error": "\(error)"])
            }
        }

        // Each partition's latest standing (a later one is as far as an earlier one, or further).
        var standings: [CheckpointStore.BatchStanding] = []
        for settlement in group {
            for standing in settlement.standings {
                if let at = standings.firstIndex(where: { $0.partition == standing.partition }) { standings[at] = standing } else { standings.append(standing) }
            }
        }
        // The written objects' queue entries and catalogue rows go in the transaction that takes their names off the
        // pending list.
        var writes = pipeline.queueWrites(planned)
        if !marks.isEmpty { writes.writes.append(SubjectIndexWrite(marks: marks)) }
        if !catalogue.isEmpty { writes.writes.append(CatalogueWrite(archive: pipeline.store.location, rows: catalogue)) }
        try await pipeline.writeSubjectIndexObjects(writes.writes, stop: stop)
        if pipeline.actions != nil {
            summary.actionsEnqueued = writes.enqueued
            summary.actionsParked = writes.parked
        }
        try save(standings, writes: writes.writes, at: now)
        for standing in standings { savedSkip[standing.partition] = standing.position.skip }
        return summary
    }

    private func save(_ standings: [CheckpointStore.BatchStanding], writes: [any CommitWrite] = [], at now: Date) throws {
        do {
            try pipeline.checkpoints.save(source: source.id, standings: standings, writes: writes, at: now)
        } catch let error as StateError where error.kind == .damaged {
            throw error
        } catch {
            throw StateError.unusable("\(error). Nothing is lost: the archive holds everything so far, and the next run replays from the previous checkpoint and writes the same objects")
        }
    }

    /// A dead letter for record `index` of `batch`, as the per-record commit writes one.
    private func deadLetter(_ batch: SourceBatch, _ index: Int, reason: String, code: String, at now: Date) -> DeadLetter {
        let range = batch.records[index]
        let maxRecordBytes = pipeline.options.maxRecordBytes
        var letter: DeadLetter
        if let oversized = batch.oversized[index] {
            letter = DeadLetter(source: source.id, partition: batch.partition, position: batch.position(of: index), file: batch.file,
                                reason: reason, code: code, raw: Array(batch.buffer[range]), at: now)
            letter.recordBytes = oversized.length
            letter.recordSHA256 = oversized.sha256
        } else if range.count > maxRecordBytes {
            letter = DeadLetter(source: source.id, partition: batch.partition, position: batch.position(of: index), file: batch.file,
                                reason: reason, code: code, raw: Array(batch.buffer[range.prefix(JSONLinesSource.oversizedPrefixBytes)]), at: now)
            letter.recordBytes = Int64(range.count)
            letter.recordSHA256 = batch.buffer.withUnsafeBytes { hex(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: $0[range]))) }
        } else {
            letter = DeadLetter(source: source.id, partition: batch.partition, position: batch.position(of: index), file: batch.file,
                                reason: reason, code: code, raw: Array(batch.buffer[range]), at: now)
        }
        return letter
    }
}
