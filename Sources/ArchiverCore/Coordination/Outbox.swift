import Foundation
import GRDB
import JSONToolkit

/// The event outbox in the state database: events are appended inside the transaction that makes what they
/// announce true, then delivered at least once, in the order they were appended, to every configured target
/// (``OutboxDelivery``).
///
/// Any feature appends its events the same way, inside the commit transaction (from its ``CommitWrite``) or any
/// other write transaction on the state database:
///
/// ```swift
/// try Outbox.append(db, CloudEvent(
///     id: CloudEvent.id(subject: jobID, type: "erasure.completed"), source: events.source,
///     type: "erasure.completed", subject: jobID, time: QueueTime.text(now), data: data), at: now)
/// ```
///
/// Ids must be deterministic (``CloudEvent/id(subject:type:)``): an event whose id is in the outbox already is not
/// appended again, so a replayed transaction adds nothing and a consumer sees one id per event.
public enum Outbox {
    /// Appends `event` (nothing when its id is there already). Returns whether it was appended.
    @discardableResult
    public static func append(_ db: Database, _ event: CloudEvent, at date: Date) throws -> Bool {
        try append(db, id: event.id, type: event.type, subject: event.subject, time: event.time, envelope: event.envelope.serialized, at: date)
    }

    /// Appends events in a transaction of their own (outside a batch's commit).
    public static func append(_ events: [CloudEvent], to checkpoints: CheckpointStore, at date: Date) throws {
        try checkpoints.database.write { db in
            for event in events { try append(db, event, at: date) }
        }
    }

    /// Appends an event whose envelope is already serialized (made off the commit path). An event with an envelope
    /// whose id is there already is not appended again (a unique index holds those ids); an event without one (a
    /// `deletion.requested`, built at delivery from its coordination's row) must be appended only by the transaction
    /// that created what it announces, so it is never there already.
    @discardableResult
    public static func append(_ db: Database, id: String, type: String, subject: String, time: String, envelope: String, at date: Date) throws -> Bool {
        let statement = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO outbox_events (id, type, subject, time, envelope, created_at) VALUES (?, ?, ?, ?, ?, ?)
            """)
        try statement.execute(arguments: [id, type, subject, time, envelope, date.timeIntervalSince1970])
        return db.changesCount > 0
    }
}

extension Outbox {
    /// Events after `seq`, in order, each with its envelope (a `deletion.requested` row holds none: it is built from
    /// its coordination's row, ``RequestedEvent``).
    static func events(_ db: Database, after seq: Int64, limit: Int) throws -> [OutboxEvent] {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT e.seq, e.id, e.type, e.subject, e.time, e.envelope, c.id AS c_id, c.rule, c.source, c.table_name, c.item_key,
                    c.deleted_at, c.deletion_kind, c.archive_key, c.detail
                FROM outbox_events e LEFT JOIN coordinations c ON e.envelope = '' AND c.id = e.subject
                WHERE e.seq > ? ORDER BY e.seq LIMIT ?
                """),
            arguments: [seq, limit])
        return rows.map { row in
            var event = OutboxEvent(row: row)
            if event.envelope.isEmpty, (row["c_id"] as String?) != nil {
                event.envelope = RequestedEvent.envelope(eventID: event.id, time: event.time, coordination: row, id: row["c_id"])
            }
            return event
        }
    }
}

/// An event as the outbox holds it.
public struct OutboxEvent: Sendable, Equatable {
    /// Its place in the outbox (delivery order).
    public var seq: Int64
    public var id: String
    public var type: String
    public var subject: String
    public var time: String
    /// The CloudEvents JSON envelope, as delivered.
    public var envelope: String

    init(row: Row) {
        seq = row["seq"]
        id = row["id"]
        type = row["type"]
        subject = row["subject"]
        time = row["time"]
        envelope = row["envelope"]
    }

    /// The envelope, parsed.
    public var cloudEvent: CloudEvent? { (try? JSONValue.parse(envelope)).flatMap(CloudEvent.init(envelope:)) }
}
