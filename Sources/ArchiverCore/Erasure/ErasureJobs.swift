import Crypto
import Foundation
import GRDB
import JSONToolkit

/// The states of an erasure job.
public enum ErasureJobState: String, Sendable, Codable, CaseIterable {
    /// Waiting to run (now, or from its `not_before`).
    case queued
    /// Being carried out (under a lease: a job whose worker was killed is taken up again once the lease passes).
    case running
    case completed
    /// Finished, with objects or actions that failed (the events say which; `erase resume` tries them again).
    case completedWithErrors = "completed-with-errors"
    /// Could not be carried out (the archive needs attention); `erase resume` tries again.
    case failed
    /// Stopped by `erase cancel` at a clean point; `erase resume` continues it.
    case cancelled

    /// Finished states: the job holds no lease and has a receipt.
    public var isFinished: Bool { self == .completed || self == .completedWithErrors }
}

/// One erasure job as the state database holds it.
public struct ErasureJob: Sendable, Equatable {
    public var id: String
    /// HMAC-SHA256 of the subject (never the subject).
    public var subjectHMAC: String
    public var state: ErasureJobState
    public var requestedAt: Date
    /// Not carried out before this time (a scheduled erasure: `--at`, `--after`).
    public var notBefore: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    public var cancelRequested: Bool
    /// `request` (asked for), or `late` (a record of an erased subject archived while its erasure ran).
    public var origin: String
    /// The subject's application data: the `erasure.actions` filled when the job was asked for (JSON array of
    /// {root, action, target}).
    public var actions: JSONValue
    /// What was done so far, by store and operation (JSON object of counts).
    public var counts: [String: Int]
    public var error: String?
}

/// Erasure jobs, suppressions and events in the state database.
public final class ErasureStore: Sendable {
    let database: DatabaseQueue
    public let path: String

    public init(checkpoints: CheckpointStore) {
        database = checkpoints.database
        path = checkpoints.path
    }

    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch let error as ErasureError { throw error } catch {
            throw CheckpointStore.describe(error, path: path, doing: "read")
        }
    }

    func writing<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.write(body) } catch let error as ErasureError { throw error } catch {
            throw CheckpointStore.describe(error, path: path, doing: "write to")
        }
    }

    /// A new job id: `er-` and 16 random hex digits.
    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "er-" + String((0..<8).map { _ in UInt8.random(in: 0...255, using: &generator) }.flatMap { hex([$0]) }.map(Character.init))
    }

    /// Records a new job, queued from `notBefore`.
    public func create(subjectHMAC: String, actions: JSONValue, notBefore: Date, at date: Date) throws -> ErasureJob {
        let job = ErasureJob(
            id: Self.newID(), subjectHMAC: subjectHMAC, state: .queued, requestedAt: date, notBefore: notBefore, startedAt: nil, finishedAt: nil,
            cancelRequested: false, origin: "request", actions: actions, counts: [:], error: nil)
        try writing { db in
            try db.execute(
                sql: """
                    INSERT INTO erasure_jobs (id, subject_hmac, state, requested_at, not_before, origin, actions)
                    VALUES (?, ?, 'queued', ?, ?, 'request', ?)
                    """,
                arguments: [job.id, subjectHMAC, date.timeIntervalSince1970, notBefore.timeIntervalSince1970, actions.serialized])
        }
        return job
    }

    static func job(_ row: Row) -> ErasureJob {
        let counts = (try? JSONValue.parse(row["counts"] as String))?.objectMembers?.reduce(into: [String: Int]()) { result, member in
            if case .number(let text) = member.1, let value = Int(text) { result[member.0] = value }
        } ?? [:]
        return ErasureJob(
            id: row["id"], subjectHMAC: row["subject_hmac"], state: ErasureJobState(rawValue: row["state"]) ?? .failed,
            requestedAt: Date(timeIntervalSince1970: row["requested_at"]), notBefore: Date(timeIntervalSince1970: row["not_before"]),
            startedAt: (row["started_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            cancelRequested: (row["cancel_requested"] as Int) != 0, origin: row["origin"],
            actions: (try? JSONValue.parse(row["actions"] as String)) ?? .array([]), counts: counts, error: row["error"])
    }

    /// One job. - Throws: `noSuchJob`.
    public func job(_ id: String) throws -> ErasureJob {
        guard let job = try reading({ db in try Row.fetchOne(db, sql: "SELECT * FROM erasure_jobs WHERE id = ?", arguments: [id]).map(Self.job) }) else {
            throw ErasureError.noSuchJob(id)
        }
        return job
    }

    /// Every job, newest first.
    public func jobs(limit: Int = 1000) throws -> [ErasureJob] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM erasure_jobs ORDER BY requested_at DESC, id LIMIT ?", arguments: [limit]).map(Self.job)
        }
    }

    /// The archived records of a subject the index holds: (archive key, index key of its batched object or nil).
    public func indexed(subjectHMAC: String) throws -> [(archiveKey: String, objectKey: String?, archivedAt: Date)] {
        try reading { db in
            try SubjectIndex.records(db, subjectHMAC: subjectHMAC).map { (archiveKey: $0.archiveKey, objectKey: $0.objectKey, archivedAt: $0.archivedAt) }
        }
    }

    /// Whether the subject is suppressed (erased, not lifted).
    public func isSuppressed(_ subjectHMAC: String) throws -> Bool {
        try reading { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM erasure_suppressions WHERE subject_hmac = ? AND lifted_at IS NULL", arguments: [subjectHMAC]) ?? false
        }
    }

    /// Lifts a suppression (recorded with its reason); false when the subject was not suppressed.
    public func lift(_ subjectHMAC: String, reason: String, at date: Date) throws -> Bool {
        try writing { db in
            try db.execute(
                sql: "UPDATE erasure_suppressions SET lifted_at = ?, lifted_reason = ? WHERE subject_hmac = ? AND lifted_at IS NULL",
                arguments: [date.timeIntervalSince1970, reason, subjectHMAC])
            return db.changesCount > 0
        }
    }

    /// Asks a job to stop at its next clean point (a queued job is cancelled at once).
    public func cancel(_ id: String, at date: Date) throws -> ErasureJob {
        let job = try job(id)
        guard !job.state.isFinished else { throw ErasureError.jobState("the erasure job \(id) is \(job.state.rawValue) already; nothing to cancel") }
        try writing { db in
            try db.execute(sql: "UPDATE erasure_jobs SET cancel_requested = 1 WHERE id = ?", arguments: [id])
            try db.execute(sql: "UPDATE erasure_jobs SET state = 'cancelled', finished_at = ? WHERE id = ? AND state = 'queued'",
                           arguments: [date.timeIntervalSince1970, id])
        }
        return try self.job(id)
    }

    /// Makes a cancelled, failed or completed-with-errors job queued again (`erase resume`).
    public func resume(_ id: String) throws -> ErasureJob {
        let job = try job(id)
        guard [.cancelled, .failed, .completedWithErrors].contains(job.state) else {
            throw ErasureError.jobState("the erasure job \(id) is \(job.state.rawValue); only a cancelled, failed or completed-with-errors job is resumed")
        }
        try writing { db in
            try db.execute(sql: "UPDATE erasure_jobs SET state = 'queued', cancel_requested = 0, finished_at = NULL, error = NULL WHERE id = ?", arguments: [id])
        }
        return try self.job(id)
    }

    /// Claims the job `id` (or, with nil, the oldest due one): queued and due, or running under a lease that passed
    /// (its worker was killed). The claim suppresses the subject in the same transaction, so that from now on no
    /// record of the subject is archived. Nil when there is none to claim.
    public func claim(_ id: String?, owner: String, lease: Double, at date: Date) throws -> ErasureJob? {
        let now = date.timeIntervalSince1970
        return try writing { db -> ErasureJob? in
            // Due: queued and due, or running under a lease that passed or whose holder, a process of this machine, is gone.
            let candidates = "((state = 'queued' AND not_before <= ?) OR state = 'running')"
            let rows: [Row]
            if let id {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM erasure_jobs WHERE id = ? AND \(candidates)", arguments: [id, now])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM erasure_jobs WHERE \(candidates) ORDER BY not_before, id", arguments: [now])
            }
            let row = rows.first { row in
                guard (row["state"] as String) == "running", let until = row["leased_until"] as Double?, until >= now else { return true }
                return Self.holderIsGone(row["lease_owner"] as String?)
            }
            guard let row else { return nil }
            var job = Self.job(row)
            try db.execute(
                sql: """
                    UPDATE erasure_jobs SET state = 'running', started_at = COALESCE(started_at, ?), lease_owner = ?, leased_until = ? WHERE id = ?
                    """,
                arguments: [now, owner, now + lease, job.id])
            try db.execute(
                sql: """
                    INSERT INTO erasure_suppressions (subject_hmac, job_id, since) VALUES (?, ?, ?)
                    ON CONFLICT (subject_hmac) DO UPDATE SET job_id = excluded.job_id, since = excluded.since, lifted_at = NULL, lifted_reason = NULL
                    WHERE erasure_suppressions.lifted_at IS NOT NULL
                    """,
                arguments: [job.subjectHMAC, job.id, now])
            job.state = .running
            job.startedAt = job.startedAt ?? date
            return job
        }
    }

    /// Records that `sync` copied a month of the archive to `destination` (the latest copy of each month and place).
    public func recordSync(month: String, destination: String, jsonl: String?, archive: String, at date: Date) throws {
        try writing { db in
            try db.execute(
                sql: """
                    INSERT INTO sync_copies (month, destination, jsonl, archive, copied_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (month, destination) DO UPDATE SET jsonl = excluded.jsonl, archive = excluded.archive, copied_at = excluded.copied_at
                    """,
                arguments: [month, destination, jsonl, archive, date.timeIntervalSince1970])
        }
    }

    /// The copies `sync` made before `date` of the months `months` (`YYYY-MM`).
    public func syncCopies(months: Set<String>, before date: Date) throws -> [(month: String, destination: String, jsonl: String?, copiedAt: Date)] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM sync_copies WHERE copied_at <= ? ORDER BY month, destination", arguments: [date.timeIntervalSince1970])
                .filter { months.contains($0["month"] as String) }
                .map { (month: $0["month"], destination: $0["destination"], jsonl: $0["jsonl"], copiedAt: Date(timeIntervalSince1970: $0["copied_at"])) }
        }
    }

    /// Where a job's and a receipt's counts file an event's store: `archive`, `subject-index` (the archive's subject
    /// index objects), or `root:<name>`.
    static func countsName(_ store: String) -> String {
        store == "archive" || store == subjectIndexStore ? store : "root:" + store
    }

    /// The events' store of the archive's subject index objects.
    public static let subjectIndexStore = "subject-index"

    /// This machine's name, as lease owners start.
    static let host = ProcessInfo.processInfo.hostName

    /// Whether a lease's holder (`host:pid:…`) is a process of this machine that no longer runs (killed).
    static func holderIsGone(_ owner: String?) -> Bool {
        guard let owner else { return true }
        let parts = owner.split(separator: ":")
        guard parts.count >= 3, String(parts[0]) == host, let pid = Int32(parts[1]) else { return false }
        return !FileSystem.isLiveProcess(pid)
    }

    /// Puts a claimed job back in the queue, due in a minute, with why it waits (the event hook refused to let it run).
    /// When its coordination `coordination` was released meanwhile (the last ack came in while the job was still
    /// claimed, so the release could not make it due), it is due at once instead.
    public func release(_ id: String, because reason: String, at date: Date, coordination: String? = nil) throws {
        try writing { db in
            try db.cachedStatement(sql: """
                UPDATE erasure_jobs SET state = 'queued', lease_owner = NULL, leased_until = NULL, error = ?,
                    not_before = CASE WHEN EXISTS (SELECT 1 FROM coordinations WHERE id = ? AND state NOT IN ('waiting', 'parked')) THEN ? ELSE ? END
                WHERE id = ?
                """).execute(arguments: [reason, coordination, date.timeIntervalSince1970, date.timeIntervalSince1970 + 60, id])
        }
    }

    /// Extends a running job's lease; returns whether a cancel was asked for.
    public func heartbeat(_ id: String, owner: String, lease: Double, at date: Date) throws -> Bool {
        try writing { db in
            try db.execute(sql: "UPDATE erasure_jobs SET leased_until = ? WHERE id = ? AND lease_owner = ?",
                           arguments: [date.timeIntervalSince1970 + lease, id, owner])
            return try Bool.fetchOne(db, sql: "SELECT cancel_requested FROM erasure_jobs WHERE id = ?", arguments: [id]) ?? false
        }
    }

    /// One event of a job's log.
    public struct Event: Sendable, Equatable, Codable {
        public var at: Date
        /// `archive`, `subject-index` (the archive's subject index objects) or the root's name.
        public var store: String
        /// `delete`, `rewrite`, or the action's kind.
        public var operation: String
        public var key: String
        public var storageClass: String?
        /// `deleted`, `rewritten`, `absent`, `failed`, `done`.
        public var outcome: String
        public var detail: String?
        public var requestID: String?
        /// The object's size, when known.
        public var size: Int64?
        /// The charge a minimum storage duration implies for deleting it now (US dollars, estimated from class and age).
        public var earlyDeletionUSD: Double?

        /// The detail of an object deleted without a listing (its class the one archiver wrote it in, its size and
        /// age not known): its bucket has no versioning and no lifecycle rule that moves it to another class.
        public static let classAsWritten = "not listed: one version, STANDARD as written (no versioning, no class-changing lifecycle rule)"

        public init(at: Date, store: String, operation: String, key: String, storageClass: String? = nil, outcome: String,
                    detail: String? = nil, requestID: String? = nil, size: Int64? = nil, earlyDeletionUSD: Double? = nil) {
            self.size = size
            self.earlyDeletionUSD = earlyDeletionUSD
            self.at = at
            self.store = store
            self.operation = operation
            self.key = key
            self.storageClass = storageClass
            self.outcome = outcome
            self.detail = detail
            self.requestID = requestID
        }

        enum CodingKeys: String, CodingKey {
            case at, store, operation, key, outcome, detail
            case storageClass = "storage_class"
            case requestID = "request_id"
            case size
            case earlyDeletionUSD = "early_deletion_usd"
        }
    }

    /// Records what a step did in one transaction: its events, the count of each outcome, and the index rows of the
    /// records it erased (deleted, so a resumed job does not do them again).
    public func record(_ id: String, events: [Event], erasedKeys: [String], subjectHMAC: String) throws {
        try writing { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO erasure_events (job_id, at, store, operation, key, storage_class, outcome, detail, request_id, size, early_deletion_usd)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for event in events {
                try insert.execute(arguments: [id, event.at.timeIntervalSince1970, event.store, event.operation, event.key, event.storageClass,
                                               event.outcome, event.detail, event.requestID, event.size, event.earlyDeletionUSD])
            }
            try SubjectIndex.remove(db, subjectHMAC: subjectHMAC, keys: Set(erasedKeys))
            var counts = (try Row.fetchOne(db, sql: "SELECT counts FROM erasure_jobs WHERE id = ?", arguments: [id]))
                .flatMap { try? JSONValue.parse($0["counts"] as String) }?.objectMembers ?? []
            for event in events {
                let name = "\(Self.countsName(event.store)).\(event.outcome)"
                if let position = counts.firstIndex(where: { $0.0 == name }), case .number(let text) = counts[position].1 {
                    counts[position].1 = .integer((Int(text) ?? 0) + 1)
                } else {
                    counts.append((name, .integer(1)))
                }
            }
            try db.execute(sql: "UPDATE erasure_jobs SET counts = ? WHERE id = ?", arguments: [JSONValue.object(counts).serialized, id])
        }
    }

    /// A job's events, in order.
    public func events(_ id: String) throws -> [Event] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM erasure_events WHERE job_id = ? ORDER BY id", arguments: [id]).map {
                Event(at: Date(timeIntervalSince1970: $0["at"]), store: $0["store"], operation: $0["operation"], key: $0["key"],
                      storageClass: $0["storage_class"], outcome: $0["outcome"], detail: $0["detail"], requestID: $0["request_id"],
                      size: $0["size"], earlyDeletionUSD: $0["early_deletion_usd"])
            }
        }
    }

    /// Ends a job (with its state), unless records of its subject were indexed since it read the index: then it
    /// stays running and the caller goes round again. Returns whether it ended.
    public func finish(_ id: String, subjectHMAC: String, state: ErasureJobState, error: String?, at date: Date) throws -> Bool {
        try writing { db in
            if state.isFinished, try SubjectIndex.contains(db, subjectHMAC: subjectHMAC),
               state == .completed {
                return false
            }
            try db.execute(
                sql: "UPDATE erasure_jobs SET state = ?, finished_at = ?, error = ?, lease_owner = NULL, leased_until = NULL WHERE id = ?",
                arguments: [state.rawValue, date.timeIntervalSince1970, error, id])
            return true
        }
    }
}

/// Erasure's writes in the commit transaction.
enum ErasureJobs {
    /// Whether any subject is suppressed (most state databases: none, and the per-batch checks stop here).
    static func anySuppressed(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM erasure_suppressions WHERE lifted_at IS NULL)")) ?? false
    }

    /// Queues a follow-up job for a subject whose record was archived after its erasure began (unless one is queued
    /// or running): it erases the late record.
    static func insertFollowUp(_ db: Database, subject: String, at date: Date) throws {
        let open = try Bool.fetchOne(
            db, sql: "SELECT 1 FROM erasure_jobs WHERE subject_hmac = ? AND state IN ('queued', 'running') LIMIT 1", arguments: [subject]) ?? false
        guard !open else { return }
        let id = "er-" + String(hex(SHA256.hash(data: Array("late\n\(subject)\n\(date.timeIntervalSince1970)".utf8))).prefix(16))
        try db.execute(
            sql: """
                INSERT INTO erasure_jobs (id, subject_hmac, state, requested_at, not_before, origin, actions)
                VALUES (?, ?, 'queued', ?, ?, 'late', '[]') ON CONFLICT (id) DO NOTHING
                """,
            arguments: [id, subject, date.timeIntervalSince1970, date.timeIntervalSince1970])
    }
}

extension CheckpointStore {
    /// Whether any subject is erased and not lifted (most state databases: none, and a batch's check stops here).
    public func anySuppressed() throws -> Bool {
        try reading { db in try ErasureJobs.anySuppressed(db) }
    }

    /// The subjects among `subjects` (HMACs) that are erased and not lifted: their records are not archived.
    public func suppressed(among subjects: Set<String>) throws -> Set<String> {
        guard !subjects.isEmpty else { return [] }
        let list = Array(subjects)
        return try reading { db in
            guard try ErasureJobs.anySuppressed(db) else { return [] }
            var found: Set<String> = []
            for start in stride(from: 0, to: list.count, by: 500) {
                let chunk = Array(list[start..<min(list.count, start + 500)])
                found.formUnion(try String.fetchAll(
                    db, sql: "SELECT subject_hmac FROM erasure_suppressions WHERE lifted_at IS NULL AND subject_hmac IN (\(databaseQuestionMarks(count: chunk.count)))",
                    arguments: StatementArguments(chunk)))
            }
            return found
        }
    }
}

extension ErasureJob {
    /// The job as `erase status --json` and `erase list --json` print it.
    public var json: JSONValue {
        let format = ISO8601DateFormatter()
        return .object([
            ("job", .string(id)),
            ("state", .string(state.rawValue)),
            ("origin", .string(origin)),
            ("subject_hmac", .string(subjectHMAC)),
            ("requested_at", .string(format.string(from: requestedAt))),
            ("not_before", .string(format.string(from: notBefore))),
            ("started_at", startedAt.map { .string(format.string(from: $0)) } ?? .null),
            ("finished_at", finishedAt.map { .string(format.string(from: $0)) } ?? .null),
            ("cancel_requested", .bool(cancelRequested)),
            ("counts", .object(counts.sorted { $0.key < $1.key }.map { ($0.key, .integer($0.value)) })),
            ("error", error.map(JSONValue.string) ?? .null),
        ])
    }
}

extension ErasureStore.Event {
    /// The event as `erase status --events --json` prints it.
    public var json: JSONValue {
        .object([
            ("at", .string(ISO8601DateFormatter().string(from: at))), ("store", .string(store)), ("operation", .string(operation)),
            ("key", .string(key)), ("storage_class", storageClass.map(JSONValue.string) ?? .null), ("outcome", .string(outcome)),
            ("detail", detail.map(JSONValue.string) ?? .null), ("request_id", requestID.map(JSONValue.string) ?? .null),
            ("size", size.map { .integer($0) } ?? .null),
            ("early_deletion_usd", earlyDeletionUSD.map { .number(String(format: "%.6f", $0)) } ?? .null),
        ])
    }
}
