import Foundation

/// What `dlq retry` did.
public struct RetrySummary: Sendable, Codable, Equatable {
    public var tried = 0
    /// Archived now; their entries left the folder.
    public var archived = 0
    /// Not REMOVE records after all; their entries left the folder.
    public var passedOver = 0
    /// Still failing; their entries stay, with one more attempt counted.
    public var stillFailing = 0
    /// Entry files that do not read back (left as they are, named here).
    public var damaged: [DamagedDeadLetter] = []

    enum CodingKeys: String, CodingKey {
        case tried, archived
        case passedOver = "passed_over"
        case stillFailing = "still_failing"
        case damaged
    }

    public init() {}

    public var text: String {
        var rows = [("tried", "\(tried)"), ("archived", "\(archived)"), ("passed over", "\(passedOver)"), ("still failing", "\(stillFailing)")]
        if !damaged.isEmpty { rows.append(("damaged, left", "\(damaged.count)")) }
        return alignedRows(rows)
    }
}

/// Sends dead-lettered records through the pipeline again.
public struct DeadLetterRetry: Sendable {
    public let folder: DeadLetterFolder
    public let store: any ArchiveStore
    public var gzipLevel = GzipEncoder.defaultLevel
    public var clock: any WallClock = SystemClock()
    /// The deletion rules and the queue their entries go to: a record archived now gets its actions queued (before
    /// its entry leaves the folder), as the tail would have queued them.
    public var actions: (rules: DeletionActions, queue: QueueStore)?
    /// How records are cut into objects in a batched archive.
    public var batching = BatchLimits()
    /// Where a record archived now is indexed under its subject (a rule with `subject:` takes it), before its entry
    /// leaves the folder, as the tail would have indexed it; nil: not indexed.
    public var subjectIndex: ErasureStore?
    /// The state folder's catalogue: a batched object written now gets its row (before the entries leave the
    /// folder), so `restore <key>` of its records reads only the index and the record's range, as for a tail's.
    public var catalogue: CheckpointStore?

    public init(folder: DeadLetterFolder, store: any ArchiveStore) {
        self.folder = folder
        self.store = store
    }

    /// Retries the given entries (all when `ids` is empty; damaged entry files are then passed over and named
    /// in the summary, while a damaged entry asked for by id is an error).
    public func run(ids: [String] = []) async throws -> RetrySummary {
        var summary = RetrySummary()
        let entries: [DeadLetter]
        if ids.isEmpty {
            (entries, summary.damaged) = try await folder.scan()
        } else {
            entries = try await ids.asyncMap { try await folder.entry(id: $0) }
        }
        let processor = RecordProcessor(gzipLevel: gzipLevel)
        var done: [String] = []
        var failing: [DeadLetter] = []
        var objects: [(ArchiveObject, DeadLetter, DeletionKind)] = []
        var planned: [String: [PlannedEntry]] = [:]
        var subjects: [String: String] = [:]
        for entry in entries {
            summary.tried += 1
            if entry.isCut {
                // Only the record's beginning was kept: it cannot be archived from here, whatever the limit now.
                var again = entry
                again.attempts += 1
                again.lastFailedAt = ISO8601DateFormatter().string(from: clock.now())
                failing.append(again)
                continue
            }
            let context = actions.map { RuleContext(rules: $0.rules.rules, source: entry.source, sourceTable: tableName(fromARN: entry.source)) }
            let (outcome, entries, subject) = entry.raw.withUnsafeBytes { processor.processWithSubject($0, rules: context) }
            switch outcome {
            case .archive(let object, let kind):
                objects.append((object, entry, kind))
                if !entries.isEmpty { planned[entry.id] = entries }
                if let subject { subjects[entry.id] = subject }
            case .passOver:
                summary.passedOver += 1
                done.append(entry.id)
            case .deadLetter(let error):
                var again = entry
                again.attempts += 1
                again.reason = error.description
                again.code = error.code
                again.lastFailedAt = ISO8601DateFormatter().string(from: clock.now())
                failing.append(again)
            }
        }
        let failures: [Int: ArchiveStoreError]
        var indexKeys: [Int: String] = [:]
        if try await LayoutManifest.layout(of: store) == .batched {
            let rows: [CatalogueRow]
            (failures, indexKeys, rows) = try await putBatched(objects.map { ($0.0, $0.2) })
            try catalogue?.catalogue(rows, archive: store.location)
        } else {
            failures = await store.put(objects.map(\.0))
        }
        var marks: [SubjectMark] = []
        for (index, (_, entry, _)) in objects.enumerated() {
            if let error = failures[index] {
                if error.isFailed { throw error }
                var again = entry
                again.attempts += 1
                again.reason = "the archive store refused the object: \(error)"
                again.code = "write-failed"
                again.lastFailedAt = ISO8601DateFormatter().string(from: clock.now())
                failing.append(again)
            } else {
                summary.archived += 1
                done.append(entry.id)
                if let subject = subjects[entry.id] {
                    marks.append(SubjectMark(hmac: subject, archiveKey: objects[index].0.key, objectKey: indexKeys[index]))
                }
            }
        }
        if let subjectIndex, !marks.isEmpty { try subjectIndex.index(marks) }
        summary.stillFailing = failing.count
        if let actions {
            let entries = done.flatMap { planned[$0] ?? [] }
            if !entries.isEmpty {
                try actions.queue.enqueue(entries, maxAttempts: actions.rules.queue.maxAttempts, delay: actions.rules.queue.delay.seconds, at: clock.now())
            }
        }
        try await folder.write(failing)
        try await folder.remove(ids: done)
        return summary
    }
}

extension DeadLetterRetry {
    /// Writes records into a batched archive: cut into objects as a tail cuts them, each object then its index.
    /// Returns the records whose object could not be written, by index into `records`, the index key of the
    /// object holding each record, and the catalogue rows of the objects written.
    func putBatched(_ records: [(object: ArchiveObject, kind: DeletionKind)]) async throws
        -> (failures: [Int: ArchiveStoreError], indexKeys: [Int: String], rows: [CatalogueRow]) {
        // Cut in deletion-time order (dead letters come in no useful order): each object then spans a short stretch of
        // its day, so the catalogue and the index names point a key at one object, as for a tail's.
        let times = records.map { record in RecordKeyParts(record.object.key).map { ($0.dayNumber, $0.secondsOfDay) } ?? (Int.max, Int.max) }
        let order = records.indices.sorted { a, b in
            times[a] != times[b] ? times[a] < times[b] : records[a].object.key < records[b].object.key
        }
        let objects = batching.objects(order.map { records[$0] }, gzipLevel: gzipLevel).map { entry in
            (object: entry.object, members: entry.members.map { order[$0] })
        }
        var refused = await store.put(objects.map(\.object.data))
        let written = objects.indices.filter { refused[$0] == nil }
        for (position, error) in await store.put(written.map { objects[$0].object.index }) {
            refused[written[position]] = error
            try? await store.delete([objects[written[position]].object.data.key])
        }
        var failures: [Int: ArchiveStoreError] = [:]
        for (index, error) in refused {
            if error.isFailed { throw error }
            for member in objects[index].members { failures[member] = error }
        }
        var indexKeys: [Int: String] = [:]
        for object in objects {
            for member in object.members { indexKeys[member] = object.object.index.key }
        }
        return (failures, indexKeys, objects.indices.filter { refused[$0] == nil }.map { objects[$0].object.catalogue })
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
