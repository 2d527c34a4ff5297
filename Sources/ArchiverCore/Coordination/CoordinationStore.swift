import Foundation
import GRDB
import JSONToolkit
import Logging

/// Coordinations in the state database: acks and heartbeats, timeouts, release of the held actions, and completion
/// once the actions have finished. Every change is one SQLite transaction, and every state change is guarded by the
/// state it leaves, so a coordination is released once and completed once however many processes tick.
///
/// The ack logic lives here so that every way in (`archiver ack`, the acks queue, an HTTP endpoint) is a thin call.
public final class CoordinationStore: Sendable {
    let database: DatabaseQueue
    public let path: String
    /// CloudEvents `source` of the events written here.
    let eventSource: String
    let logger: Logger

    public init(checkpoints: CheckpointStore, eventSource: String = EventsConfiguration().source, logger: Logger = Logger(label: "archiver.coordination")) {
        database = checkpoints.database
        path = checkpoints.path
        self.eventSource = eventSource
        self.logger = logger
    }

    /// The coordinations beside a queue (the same state database).
    public init(queue: QueueStore, eventSource: String = EventsConfiguration().source, logger: Logger = Logger(label: "archiver.coordination")) {
        database = queue.database
        path = queue.path
        self.eventSource = eventSource
        self.logger = logger
    }

    /// The coordinations of an existing state folder (the commands never create one).
    public static func open(stateFolder: String, eventSource: String = EventsConfiguration().source) throws -> CoordinationStore {
        guard FileSystem.isFolder(stateFolder) else {
            throw StateError.unusable("there is no state folder \(FileSystem.absolute(stateFolder)); give the one the tail uses (--state, ARCHIVER_STATE or state: in the configuration)")
        }
        return CoordinationStore(checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false), eventSource: eventSource)
    }

    /// Reads, after spreading the coordinations the tail logged (``CoordinationLog``) when there are any.
    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            if try database.read(CoordinationLog.hasPending) { _ = try database.write { db in try CoordinationLog.spread(db) } }
            return try database.read(body)
        } catch let error as CoordinationError { throw error } catch let error as StateError { throw error } catch {
            throw CheckpointStore.describe(error, path: path, doing: "read")
        }
    }

    /// Writes in one transaction that first spreads the coordinations the tail logged (``CoordinationLog``).
    func writing<T>(_ body: (Database) throws -> T) throws -> T {
        do {
            return try database.write { db in
                try CoordinationLog.spread(db)
                return try body(db)
            }
        } catch let error as CoordinationError { throw error } catch let error as StateError { throw error } catch {
            throw CheckpointStore.describe(error, path: path, doing: "write to")
        }
    }

    // MARK: Acks

    /// Records a consumer's acknowledgement (or, with `heartbeat`, extends its wait), then decides the coordination
    /// if that was the last answer it waited for.
    ///
    /// Idempotent: the same ack again changes nothing (`duplicate`). An ack that comes after the coordination was
    /// decided, or after the consumer's wait ran out, is recorded as late and changes nothing else.
    /// - Throws: `CoordinationError` for an unknown coordination or a consumer it does not expect.
    public func ack(_ id: String, consumer: String, status: AckStatus = .completed, detail: String? = nil, heartbeat: Bool = false,
                    now: Date) throws -> AckResult {
        try writing { db in try ack(db, id, consumer: consumer, status: status, detail: detail, heartbeat: heartbeat, now: now) }
    }

    /// Records many acks in one transaction (each as ``ack(_:consumer:status:detail:heartbeat:now:)`` would); an ack
    /// that is refused is returned as its error and does not stop the others.
    public func ack(_ acks: [ReceivedAck], now: Date) throws -> [Result<AckResult, CoordinationError>] {
        try writing { db in
            try acks.map { ack in
                do {
                    return .success(try self.ack(db, ack.coordination, consumer: ack.consumer, status: ack.status, detail: ack.detail, heartbeat: ack.heartbeat, now: now))
                } catch let error as CoordinationError {
                    return .failure(error)
                }
            }
        }
    }

    func ack(_ db: Database, _ id: String, consumer: String, status: AckStatus, detail: String?, heartbeat: Bool, now: Date) throws -> AckResult {
        guard let coordination = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT state, cap_at, created_at FROM coordinations WHERE id = ?"), arguments: [id]) else {
            throw CoordinationError.unknown(id)
        }
        guard let row = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT status, timeout, deadline, detail FROM coordination_consumers WHERE coordination = ? AND consumer = ?"), arguments: [id, consumer])
        else {
            let expected = try String.fetchAll(
                db.cachedStatement(sql: "SELECT consumer FROM coordination_consumers WHERE coordination = ? ORDER BY position"), arguments: [id])
            throw CoordinationError.unexpectedConsumer(consumer, coordination: id, expected: expected)
        }
        let state: String = coordination["state"]
        let current: String = row["status"]
        let stamp = now.timeIntervalSince1970
        if heartbeat {
            guard state == CoordinationState.waiting.rawValue, current == ConsumerStatus.waiting.rawValue else {
                return AckResult(outcome: .late, state: CoordinationState(rawValue: state) ?? .waiting, deadline: nil)
            }
            let deadline = min(coordination["cap_at"] as Double, stamp + (row["timeout"] as Double))
            try db.cachedStatement(sql: """
                    UPDATE coordination_consumers SET deadline = ?, heartbeats = heartbeats + 1, last_heartbeat_at = ?
                    WHERE coordination = ? AND consumer = ?
                    """).execute(arguments: [max(deadline, row["deadline"] as Double), stamp, id, consumer])
            try Self.updateNextDeadline(db, id)
            return AckResult(outcome: .heartbeat, state: .waiting, deadline: Date(timeIntervalSince1970: max(deadline, row["deadline"] as Double)))
        }
        if current == status.rawValue {
            return AckResult(outcome: .duplicate, state: CoordinationState(rawValue: state) ?? .waiting, deadline: nil)
        }
        guard state == CoordinationState.waiting.rawValue, current == ConsumerStatus.waiting.rawValue else {
            try db.cachedStatement(sql: "UPDATE coordination_consumers SET late_status = ?, late_at = ?, late_detail = ? WHERE coordination = ? AND consumer = ?").execute(arguments: [status.rawValue, stamp, detail, id, consumer])
            logger.notice("a late ack was recorded", metadata: ["coordination.id": "\(id)", "consumer": "\(consumer)", "ack.status": "\(status.rawValue)"])
            return AckResult(outcome: .late, state: CoordinationState(rawValue: state) ?? .waiting, deadline: nil)
        }
        try db.cachedStatement(sql: "UPDATE coordination_consumers SET status = ?, acked_at = ?, detail = ? WHERE coordination = ? AND consumer = ?").execute(arguments: [status.rawValue, stamp, detail, id, consumer])
        CoordinationMetrics.acknowledged(consumer: consumer, afterSeconds: max(0, stamp - (coordination["created_at"] as Double)))
        if status == .failed {
            logger.warning("a consumer reported failed", metadata: ["coordination.id": "\(id)", "consumer": "\(consumer)", "detail": "\(detail ?? "")"])
        }
        let decided = try decide(db, id, now: now)
        return AckResult(outcome: .recorded, state: decided, deadline: nil)
    }

    // MARK: Deciding

    /// Decides a waiting coordination from its consumers' statuses: parks it when a critical consumer failed or timed
    /// out with `on-timeout: park`, releases its actions when no consumer is awaited any more, else keeps waiting
    /// (with its next deadline updated). Returns its state.
    func decide(_ db: Database, _ id: String, now: Date) throws -> CoordinationState {
        let consumers = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT consumer, critical, on_timeout, status, detail FROM coordination_consumers WHERE coordination = ? ORDER BY position"), arguments: [id])
        for row in consumers {
            let status: String = row["status"]
            let name: String = row["consumer"]
            if status == ConsumerStatus.failed.rawValue, row["critical"] as Bool {
                try park(db, id, reason: "the critical consumer '\(name)' reported failed\((row["detail"] as String?).map { ": \($0)" } ?? "")", now: now)
                return .parked
            }
            if status == ConsumerStatus.timedOut.rawValue, (row["on_timeout"] as String) == CoordinationPolicy.OnTimeout.park.rawValue {
                try park(db, id, reason: "the consumer '\(name)'\((row["critical"] as Bool) ? " (critical)" : "") did not answer in time", now: now)
                return .parked
            }
        }
        guard !consumers.contains(where: { ($0["status"] as String) == ConsumerStatus.waiting.rawValue }) else {
            try Self.updateNextDeadline(db, id)
            return .waiting
        }
        let timedOut = consumers.contains { ($0["status"] as String) == ConsumerStatus.timedOut.rawValue }
        let state: CoordinationState = timedOut ? .timedOut : .released
        try release(db, id, state: state, reason: timedOut ? "released after a timeout" : nil, now: now)
        return state
    }

    private static func updateNextDeadline(_ db: Database, _ id: String) throws {
        try db.cachedStatement(sql: """
                UPDATE coordinations SET next_deadline =
                    (SELECT MIN(deadline) FROM coordination_consumers WHERE coordination = ? AND status = 'waiting')
                WHERE id = ?
                """).execute(arguments: [id, id])
    }

    /// Hands the coordination's held actions to the queue.
    func release(_ db: Database, _ id: String, state: CoordinationState, reason: String?, now: Date) throws {
        try db.cachedStatement(sql: """
                UPDATE coordinations SET state = ?, reason = COALESCE(?, reason), released_at = ?, next_deadline = NULL
                WHERE id = ? AND state IN ('waiting', 'parked')
                """).execute(arguments: [state.rawValue, reason, now.timeIntervalSince1970, id])
        guard db.changesCount > 0 else { return }
        try db.cachedStatement(sql: "UPDATE queue_entries SET state = 'available', next_attempt_at = ? WHERE hold = ? AND state = 'held'").execute(arguments: [now.timeIntervalSince1970, id])
        try ErasureEvents.released(db, coordination: id, now: now)
    }

    private func park(_ db: Database, _ id: String, reason: String, now: Date) throws {
        try db.cachedStatement(sql: "UPDATE coordinations SET state = 'parked', reason = ?, next_deadline = NULL WHERE id = ? AND state = 'waiting'").execute(arguments: [reason, id])
        guard db.changesCount > 0 else { return }
        logger.error("a coordination was parked; its actions wait for `archiver coordination release` or `coordination cancel`",
                     metadata: ["coordination.id": "\(id)", "reason": "\(reason)"])
        let summary = try Self.summary(db, id)
        let type = summary["source"]?.stringValue == ErasureEvents.coordinationSource ? ErasureEvents.parked : CoordinationEvents.parked
        try Outbox.append(db, CloudEvent(
            id: CloudEvent.id(subject: id, type: type), source: eventSource, type: type,
            subject: id, time: QueueTime.text(now), data: summary.appending(("reason", .string(reason)))), at: now)
    }

    /// Applies the timeouts that have come by `now`, then (when `sweep`) completes the released coordinations whose
    /// actions have all finished (writing `deletion.completed`). Returns what it did.
    @discardableResult
    public func tick(now: Date, limit: Int = 1000, sweep: Bool = true) throws -> TickSummary {
        var summary = TickSummary()
        try writing { db in
            let due = try String.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM coordinations WHERE state = 'waiting' AND next_deadline <= ? ORDER BY next_deadline LIMIT ?"), arguments: [now.timeIntervalSince1970, limit])
            for id in due {
                let late = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT consumer, critical FROM coordination_consumers WHERE coordination = ? AND status = 'waiting' AND deadline <= ?"), arguments: [id, now.timeIntervalSince1970])
                for row in late {
                    let name: String = row["consumer"]
                    try db.cachedStatement(sql: "UPDATE coordination_consumers SET status = 'timed-out' WHERE coordination = ? AND consumer = ?").execute(arguments: [id, name])
                    summary.timedOutConsumers += 1
                    CoordinationMetrics.timedOut(consumer: name)
                    if !(row["critical"] as Bool) {
                        try db.cachedStatement(sql: "UPDATE coordinations SET warnings = warnings + 1 WHERE id = ?").execute(arguments: [id])
                        logger.warning("a consumer did not answer in time; the deletion proceeds without it",
                                       metadata: ["coordination.id": "\(id)", "consumer": "\(name)"])
                    }
                }
                switch try decide(db, id, now: now) {
                case .released, .timedOut: summary.released += 1
                case .parked: summary.parked += 1
                default: break
                }
            }
        }
        if sweep { summary.completed = try complete(now: now, limit: limit) }
        return summary
    }

    /// Completes released coordinations whose actions have all finished or been parked or cancelled (a search of
    /// every released coordination).
    public func complete(now: Date, limit: Int) throws -> Int {
        try writing { db in
            let done = try String.fetchAll(
                db.cachedStatement(sql: """
                    SELECT id FROM coordinations c WHERE state IN ('released', 'timed-out') AND source != '\(ErasureEvents.coordinationSource)'
                    AND \(Self.actionsEnded) ORDER BY id LIMIT ?
                    """),
                arguments: [limit])
            return try markCompleted(db, done, now: now)
        }
    }

    /// Whether every action coordination `c` holds has finished, been parked or been cancelled (SQL).
    private static let actionsEnded = "NOT EXISTS (SELECT 1 FROM queue_entries q WHERE q.hold = c.id AND q.state NOT IN ('completed', 'parked', 'cancelled'))"

    /// Marks released coordinations `done` completed and writes each one's `deletion.completed`.
    private func markCompleted(_ db: Database, _ done: [String], now: Date) throws -> Int {
        guard !done.isEmpty else { return 0 }
        try db.cachedStatement(sql: """
            UPDATE coordinations SET state = 'completed', completed_at = ?
            WHERE id IN (SELECT value FROM json_each(?)) AND +state IN ('released', 'timed-out')
            """).execute(arguments: [now.timeIntervalSince1970, JSONValue.array(done.map(JSONValue.string)).serialized])
        let summaries = try Self.summaries(db, done)
        let time = QueueTime.text(now)
        for id in done {
            let eventID = CloudEvent.id(subject: id, type: CoordinationEvents.completed)
            let envelope = CloudEvent.envelopeText(
                id: eventID, source: eventSource, type: CoordinationEvents.completed, subject: id, time: time, data: summaries[id] ?? "null")
            try Outbox.append(db, id: eventID, type: CoordinationEvents.completed, subject: id, time: time, envelope: envelope, at: now)
        }
        return done.count
    }

    /// The reason a coordination cancelled by `coordination cancel` keeps.
    static let cancelledByAPerson = "cancelled by a person"

    /// Completes those of `ids` (the coordinations of a batch of actions just finished) that are released and whose
    /// actions have all finished or been parked or cancelled: one query and one UPDATE for the batch, then each one's
    /// `deletion.completed`. Returns how many it completed.
    public func complete(_ ids: Set<String>, now: Date) throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let list = JSONValue.array(ids.sorted().map(JSONValue.string)).serialized
        return try writing { db in
            let done = try String.fetchAll(
                db.cachedStatement(sql: """
                    SELECT c.id FROM json_each(?) j CROSS JOIN coordinations c ON c.id = j.value WHERE c.state IN ('released', 'timed-out')
                    AND \(Self.actionsEnded) ORDER BY c.id
                    """),
                arguments: [list])
            return try markCompleted(db, done, now: now)
        }
    }

    /// A person's decision on a parked (or waiting) coordination: release its actions anyway, or cancel them.
    public func resolve(_ id: String, release: Bool, now: Date) throws -> CoordinationState {
        try writing { db in
            guard let state = try String.fetchOne(
                db.cachedStatement(sql: "SELECT state FROM coordinations WHERE id = ?"), arguments: [id]) else {
                throw CoordinationError.unknown(id)
            }
            guard state == CoordinationState.parked.rawValue || state == CoordinationState.waiting.rawValue else {
                throw CoordinationError.notWaiting(id, state: state)
            }
            if release {
                try self.release(db, id, state: .released, reason: "released by a person", now: now)
                return .released
            }
            try db.cachedStatement(sql: "UPDATE queue_entries SET state = 'cancelled' WHERE hold = ? AND state = 'held'").execute(arguments: [id])
            try db.cachedStatement(sql: "UPDATE coordinations SET state = 'released', reason = '\(Self.cancelledByAPerson)', released_at = ?, next_deadline = NULL WHERE id = ?").execute(arguments: [now.timeIntervalSince1970, id])
            try ErasureEvents.released(db, coordination: id, now: now)
            return .released
        }
    }

    /// The data of `deletion.completed` and `deletion.parked`: the deletion, each consumer's answer, each action's outcome.
    static func summary(_ db: Database, _ id: String) throws -> JSONValue {
        try summaries(db, [id])[id].flatMap { try? JSONValue.parse($0) } ?? .null
    }

    /// ``summary(_:_:)`` of several coordinations at once, as JSON text: three queries for all of them, read by
    /// position, written as text (no value tree: a queue run writes one for every coordination it completes).
    static func summaries(_ db: Database, _ ids: [String]) throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let list = JSONValue.array(ids.map(JSONValue.string)).serialized
        func time(_ value: Double?) -> String? { value.map { QueueTime.text(Date(timeIntervalSince1970: $0)) } }
        var consumers: [String: [[UInt8]]] = [:]
        let consumerRows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT k.coordination, k.consumer, k.critical, k.status, k.acked_at, k.detail
            FROM json_each(?) j CROSS JOIN coordination_consumers k ON k.coordination = j.value ORDER BY k.coordination, k.position
            """), arguments: [list])
        while let row = try consumerRows.next() {
            var out = JSONObjectWriter()
            out.string("name", row[1])
            out.bool("critical", row[2])
            out.string("status", row[3])
            out.optional("acked_at", time(row[4]))
            out.optional("detail", row[5])
            consumers[row[0], default: []].append(out.finished())
        }
        var actions: [String: [[UInt8]]] = [:]
        let actionRows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT q.hold, q.id, q.action, q.state, q.outcome, q.last_error
            FROM json_each(?) j CROSS JOIN queue_entries q ON q.hold = j.value ORDER BY q.hold, q.action_index
            """), arguments: [list])
        while let row = try actionRows.next() {
            var out = JSONObjectWriter()
            out.string("id", row[1])
            out.string("action", row[2])
            out.string("state", row[3])
            out.stored("outcome", row[4])
            out.optional("error", row[5])
            actions[row[0], default: []].append(out.finished())
        }
        var result: [String: String] = [:]
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT c.id, c.rule, c.source, c.table_name, c.item_key, c.deleted_at, c.deletion_kind, c.archive_key, c.state, c.reason, c.released_at
            FROM json_each(?) j CROSS JOIN coordinations c ON c.id = j.value
            """), arguments: [list])
        while let row = try rows.next() {
            let id: String = row[0]
            var out = JSONObjectWriter()
            out.string("coordination_id", id)
            out.string("rule", row[1])
            out.string("source", row[2])
            out.optional("table", row[3])
            out.stored("item_key", row[4])
            out.string("deleted_at", row[5])
            out.string("deletion_kind", row[6])
            out.string("archive_key", row[7])
            out.string("state", row[8])
            out.optional("reason", row[9])
            out.optional("released_at", time(row[10]))
            out.raw("consumers", JSONArrayWriter.elements(consumers[id] ?? []))
            out.raw("actions", JSONArrayWriter.elements(actions[id] ?? []))
            result[id] = out.text
        }
        return result
    }
}

extension JSONValue {
    /// The object with `member` added at its end (anything else unchanged).
    public func appendingMember(_ member: (String, JSONValue)) -> JSONValue { appending(member) }

    func appending(_ member: (String, JSONValue)) -> JSONValue {
        guard case .object(let members) = self else { return self }
        return .object(members + [member])
    }
}

/// What one tick did.
public struct TickSummary: Sendable, Equatable {
    public var timedOutConsumers = 0
    public var released = 0
    public var parked = 0
    public var completed = 0
    public init() {}
}
