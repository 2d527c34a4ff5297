import Foundation
import GRDB
import JSONToolkit

/// The deletion queue in the state database (`archiver.sqlite`, table `queue_entries`): entries are written with
/// the checkpoint (``QueueEnqueue``), claimed by workers under a lease, and finished with their outcome or error.
///
/// Every change is one SQLite transaction (`synchronous=FULL`): several workers (a tail's, a `queue run`'s) may
/// share a queue; a claim hands each entry to one of them.
public final class QueueStore: Sendable {
    let database: DatabaseQueue
    /// The database file.
    public let path: String

    /// The queue of an opened state database.
    public init(checkpoints: CheckpointStore) {
        database = checkpoints.database
        path = checkpoints.path
    }

    /// The queue of an existing state folder (for the `queue` commands, which never create one).
    /// - Throws: `StateError` naming the folder when it does not exist.
    public static func open(stateFolder: String) throws -> QueueStore {
        guard FileSystem.isFolder(stateFolder) else {
            throw StateError.unusable("there is no state folder \(FileSystem.absolute(stateFolder)); give the one the tail uses (--state, ARCHIVER_STATE or state: in the configuration)")
        }
        return QueueStore(checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false))
    }

    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.read(body)
        } catch let error as QueueError {
            throw error
        } catch {
            throw CheckpointStore.describe(error, path: path, doing: "read")
        }
    }

    func writing<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.write(body)
        } catch let error as QueueError {
            throw error
        } catch {
            throw CheckpointStore.describe(error, path: path, doing: "write to")
        }
    }

    /// Adds entries outside a batch's commit (the same rows ``QueueEnqueue`` writes with a checkpoint).
    public func enqueue(_ entries: [PlannedEntry], maxAttempts: Int, delay: Double = 0, at date: Date) throws {
        try writing { db in
            for write in QueueEnqueue.writes(entries: entries, maxAttempts: maxAttempts, delay: delay) { try write.write(db, at: date) }
        }
    }

    // MARK: Workers

    /// Makes due entries available: `scheduled` ones whose start has come, `retryable` ones whose backoff has passed.
    @discardableResult
    public func stage(now: Date) throws -> Int {
        try writing { db in
            try db.cachedStatement(sql: "UPDATE queue_entries SET state = 'available' WHERE state IN ('scheduled', 'retryable') AND next_attempt_at <= ?")
                .execute(arguments: [now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    /// Rescues entries whose lease has passed (their worker was killed or stopped): each counts as a failed attempt
    /// ("lease expired"), and is retried or parked as any failure is.
    @discardableResult
    public func rescue(now: Date, backoff: Backoff, maxAttempts: Int? = nil) throws -> Int {
        try writing { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(QueueSchema.columns) FROM queue_entries WHERE state = 'executing' AND leased_until < ?"),
                arguments: [now.timeIntervalSince1970])
            for entry in rows.map(QueueEntry.init(row:)) {
                let failure = ActionFailure(
                    code: "lease-expired",
                    message: "lease expired (worker killed?): \(entry.leaseOwner ?? "a worker") claimed it and did not finish before \(QueueTime.text(entry.leasedUntil ?? now))")
                try Self.fail(db, entry, failure, owner: entry.leaseOwner, now: now, backoff: backoff, maxAttempts: maxAttempts)
            }
            return rows.count
        }
    }

    /// Claims up to `limit` available entries of the given actions for `owner`, leased until `leaseUntil`; each
    /// claim counts an attempt.
    public func claim(limit: Int, owner: String, leaseUntil: Date, actions: [ActionKind] = ActionKind.allCases) throws -> [QueueEntry] {
        try writing { db in
            let kinds = actions.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: """
                    UPDATE queue_entries SET state = 'executing', attempts = attempts + 1, leased_until = ?, lease_owner = ?
                    WHERE id IN (SELECT id FROM queue_entries WHERE state = 'available' AND action IN (\(kinds))
                                 ORDER BY next_attempt_at LIMIT ?)
                    RETURNING \(QueueSchema.columns)
                    """),
                arguments: [leaseUntil.timeIntervalSince1970, owner, limit])
            return rows.map(QueueEntry.init(row:)).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    /// What finishing a batch did.
    public struct Finished: Sendable, Equatable {
        public var completed = 0
        public var retrying = 0
        public var parked = 0
        /// Results for entries no longer leased to this worker (rescued meanwhile): not recorded.
        public var stale = 0
    }

    /// Records the results of claimed entries: completed, or failed (retryable with backoff while attempts are
    /// left, parked once they are not or when the failure is permanent). `maxAttempts` overrides the entries' own.
    public func finish(_ results: [(entry: QueueEntry, result: ActionResult)], owner: String, now: Date, backoff: Backoff,
                       maxAttempts: Int? = nil) throws -> Finished {
        try writing { db in
            var finished = Finished()
            for (entry, result) in results {
                switch result {
                case .completed(let outcome):
                    try db.cachedStatement(sql: """
                            UPDATE queue_entries SET state = 'completed', completed_at = ?, outcome = ?, leased_until = NULL, lease_owner = NULL
                            WHERE id = ? AND state = 'executing' AND lease_owner = ?
                            """).execute(arguments: [now.timeIntervalSince1970, outcome.serialized, entry.id, owner])
                    if db.changesCount == 0 { finished.stale += 1 } else { finished.completed += 1 }
                case .failed(let failure):
                    switch try Self.fail(db, entry, failure, owner: owner, now: now, backoff: backoff, maxAttempts: maxAttempts) {
                    case .retryable?: finished.retrying += 1
                    case .parked?: finished.parked += 1
                    default: finished.stale += 1
                    }
                }
            }
            return finished
        }
    }

    /// Records a failed attempt of an executing entry leased to `owner`; returns its new state (nil when it was
    /// not, or no longer, leased to `owner`).
    @discardableResult
    static func fail(_ db: Database, _ entry: QueueEntry, _ failure: ActionFailure, owner: String?, now: Date, backoff: Backoff,
                     maxAttempts: Int?) throws -> QueueState? {
        let limit = maxAttempts ?? entry.maxAttempts
        let state: QueueState = failure.permanent || entry.attempts >= limit ? .parked : .retryable
        let next = state == .retryable ? now.addingTimeInterval(backoff.delay(afterAttempt: entry.attempts)) : now
        let error = QueueAttemptError(at: QueueTime.text(now), attempt: entry.attempts, error: failure.message, code: failure.code, httpStatus: failure.httpStatus)
        let errorJSON = String(decoding: try JSONEncoder().encode(error), as: UTF8.self)
        try db.cachedStatement(sql: """
                UPDATE queue_entries SET state = ?, next_attempt_at = ?, last_error = ?, last_error_code = ?,
                    errors = json_insert(errors, '$[#]', json(?)), leased_until = NULL, lease_owner = NULL, max_attempts = ?
                WHERE id = ? AND state = 'executing' AND lease_owner IS ?
                """).execute(arguments: [state.rawValue, next.timeIntervalSince1970, failure.message, failure.code, errorJSON, limit, entry.id, owner])
        return db.changesCount == 0 ? nil : state
    }

    /// When the next waiting entry is due (nil when none waits): how long an idle worker may sleep.
    public func nextDue() throws -> Date? {
        try reading { db in
            try Double.fetchOne(
                db, sql: "SELECT MIN(next_attempt_at) FROM queue_entries WHERE state IN ('available', 'scheduled', 'retryable')")
        }.map(Date.init(timeIntervalSince1970:))
    }
}

/// A batch's queue entries, written in its commit transaction (``CommitWrite``). Entries whose target may never
/// run are written `parked` with their reason; the others `available` (or `scheduled` after `delay`). An entry
/// whose id is there already (a replayed batch) is left as it is.
public struct QueueEnqueue: CommitWrite {
    public var entries: [PlannedEntry]
    public var maxAttempts: Int
    /// Seconds between the commit and the entries' first attempt.
    public var delay: Double

    public init(entries: [PlannedEntry], maxAttempts: Int, delay: Double = 0) {
        self.entries = entries
        self.maxAttempts = maxAttempts
        self.delay = delay
    }

    /// The writes for `entries`: the entries, and the coordinations that hold some of them (logged in one row,
    /// ``CoordinationLogWrite``).
    public static func writes(entries: [PlannedEntry], maxAttempts: Int, delay: Double) -> [any CommitWrite] {
        let coordinations = entries.compactMap(\.coordination)
        let enqueue = QueueEnqueue(entries: entries, maxAttempts: maxAttempts, delay: delay)
        return coordinations.isEmpty ? [enqueue] : [CoordinationLogWrite(coordinations: coordinations), enqueue]
    }

    public func write(_ db: Database, at date: Date) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO queue_entries (id, rule, action_index, action, root, target, source, archive_key, state, attempts,
                max_attempts, next_attempt_at, last_error, last_error_code, errors, created_at, hold)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO NOTHING
            """)
        let now = date.timeIntervalSince1970
        for entry in entries {
            var state = entry.hold != nil ? QueueState.held : delay > 0 ? QueueState.scheduled : .available
            var code: String?
            var errors = "[]"
            if let reason = entry.unsafe {
                state = .parked
                code = entry.target["templates"] == nil ? "unsafe-target" : "unfillable"
                let error = QueueAttemptError(at: QueueTime.text(date), attempt: 0, error: reason, code: code!)
                errors = "[" + String(decoding: try JSONEncoder().encode(error), as: UTF8.self) + "]"
            }
            try statement.execute(arguments: [
                entry.id, entry.rule, entry.actionIndex, entry.kind.rawValue, entry.root, entry.targetText, entry.source,
                entry.archiveKey, state.rawValue, maxAttempts, state == .scheduled ? now + delay : now, entry.unsafe, code, errors, now, entry.hold,
            ])
        }
    }
}
