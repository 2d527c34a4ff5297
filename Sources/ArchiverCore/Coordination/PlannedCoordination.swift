import Crypto
import Foundation
import GRDB
import JSONToolkit

/// A coordination planned for one archived deletion that a rule with `coordinate:` took: made on the worker thread
/// with the rule's entries (which it holds), written in the commit transaction (``CoordinationWrite``).
public struct PlannedCoordination: Sendable, Equatable {
    /// The deletion's event time (``id(source:archiveKey:rule:deletedAt:)``), then SHA-256 of (source, archive key,
    /// rule), hex: a replayed record plans the same id.
    public var id: String
    public var rule: String
    public var source: String
    public var table: String?
    public var archiveKey: String
    /// The item's key (`Keys`, DynamoDB JSON), as text.
    public var itemKey: String
    public var deletionKind: DeletionKind
    /// When the item was deleted (the record's event time), RFC 3339.
    public var deletedAt: String
    public var policy: CoordinationPolicy
    /// What the `deletion.requested` event says besides the coordination's row, serialized: the events' source, the
    /// consumers awaited and the actions held (``RequestedEvent``). The envelope is built from it at delivery.
    public var detail: String
    /// The event announcing it, when it is not a deletion's (an erasure's `erasure.requested`): written as it is,
    /// instead of the `deletion.requested` built from the row.
    public var requested: CloudEvent? = nil

    /// 64 hex digits: the deletion's event time (seconds since 0001-01-01, 10 digits; zeros when the record has
    /// none), then the first 27 bytes of SHA-256 of (source, archive key, rule). The same record, rule and source give
    /// the same id; ids of later deletions sort after earlier ones, so the coordinations table, its consumers and the
    /// held entries' index grow at their ends instead of taking a random page each.
    public static func id(source: String, archiveKey: String, rule: String, deletedAt: Int64?) -> String {
        let digest = SHA256Hex.digest("coordination\n\(source)\n\(archiveKey)\n\(rule)")
        let since = UInt64(max(0, (deletedAt ?? DeletionTime.earliest) - DeletionTime.earliest))
        let time = String(since, radix: 16)
        return String(repeating: "0", count: max(0, 10 - time.count)) + time + hex(Array(digest.prefix(27)))
    }

    /// Plans the coordination of `entries` (one rule's entries for one record), and marks them held by it.
    static func plan(rule: DeletionRule, policy: CoordinationPolicy, entries: inout [PlannedEntry], source: String, table: String?,
                     archiveKey: String, itemKey: JSONValue, kind: DeletionKind, deletionTime: DeletionTime?, eventSource: String) {
        let id = Self.id(source: source, archiveKey: archiveKey, rule: rule.name, deletedAt: deletionTime?.epochSeconds)
        let deletedAt = deletionTime?.description ?? ""
        for index in entries.indices { entries[index].hold = id }
        // Written as text at once (no value tree): this runs for every coordinated deletion a tail archives.
        var detail = "{\"source\":"
        detail.reserveCapacity(256)
        writeJSONString(eventSource, to: &detail)
        detail += ",\"consumers\":["
        for (index, consumer) in policy.consumers.enumerated() {
            detail += index == 0 ? "{\"name\":" : ",{\"name\":"
            writeJSONString(consumer.name, to: &detail)
            detail += consumer.critical ? ",\"critical\":true,\"timeout\":" : ",\"critical\":false,\"timeout\":"
            writeJSONString(consumer.timeout.text, to: &detail)
            detail += "}"
        }
        detail += "],\"actions\":["
        for (index, entry) in entries.enumerated() {
            detail += index == 0 ? "{\"action\":" : ",{\"action\":"
            writeJSONString(entry.kind.rawValue, to: &detail)
            detail += ",\"root\":"
            writeJSONString(entry.root, to: &detail)
            detail += ",\"target\":"
            switch entry.target["key"] ?? entry.target["prefix"] {
            case .string(let target)?: writeJSONString(target, to: &detail)
            case let other?: other.write(to: &detail)
            case nil: detail += "null"
            }
            detail += entry.unsafe == nil ? ",\"will_run\":true}" : ",\"will_run\":false}"
        }
        detail += "]}"
        let planned = PlannedCoordination(
            id: id, rule: rule.name, source: source, table: table, archiveKey: archiveKey, itemKey: itemKey.serialized, deletionKind: kind,
            deletedAt: deletedAt, policy: policy, detail: detail)
        if !entries.isEmpty { entries[0].coordination = PackedCoordination(planned) }
    }
}

/// The `deletion.requested` event, built from its coordination's row when it is read from the outbox (its outbox row
/// holds no envelope): the same row gives the same bytes, so a delivery again, or a replayed batch, sends what was
/// sent the first time.
enum RequestedEvent {
    /// The envelope of coordination `id` from its `row` (`rule`, `source`, `table_name`, `item_key`, `deleted_at`,
    /// `deletion_kind`, `archive_key`, `detail`), with the event's `id`, `time` and `subject` from the outbox.
    static func envelope(eventID: String, time: String, coordination row: Row, id: String) -> String {
        let rule: String = row["rule"]
        let source: String = row["source"]
        let archiveKey: String = row["archive_key"]
        let detail = (row["detail"] as String?).flatMap { try? JSONValue.parse($0) } ?? .null
        // Written as text around the parts the row holds as JSON (no value tree for the whole event).
        var data = JSONObjectWriter()
        data.string("coordination_id", id)
        data.string("rule", rule)
        data.string("source", source)
        data.optional("table", row["table_name"])
        data.stored("item_key", row["item_key"])
        data.string("deleted_at", row["deleted_at"])
        data.string("deletion_kind", row["deletion_kind"])
        data.string("archive_key", archiveKey)
        data.value("consumers", detail["consumers"] ?? .array([]))
        var actions: [[UInt8]] = []
        if case .array(let planned)? = detail["actions"] {
            for (index, action) in planned.enumerated() {
                guard case .object(let members) = action else { continue }
                var out = JSONObjectWriter()
                out.string("id", PlannedEntry.id(source: source, archiveKey: archiveKey, rule: rule, actionIndex: index))
                for (name, value) in members { out.value(name, value) }
                actions.append(out.finished())
            }
        }
        data.raw("actions", JSONArrayWriter.elements(actions))
        return CloudEvent.envelopeText(
            id: eventID, source: detail["source"]?.stringValue ?? EventsConfiguration().source, type: CoordinationEvents.requested,
            subject: id, time: time, data: data.text)
    }
}

/// The event types coordination writes and reads.
public enum CoordinationEvents {
    /// A coordinated deletion was archived; its actions wait for the consumers.
    public static let requested = "deletion.requested"
    /// Every action of a coordination finished (or was parked).
    public static let completed = "deletion.completed"
    /// A coordination was parked for a person (a critical consumer failed or timed out).
    public static let parked = "deletion.parked"
    /// A consumer's acknowledgement, read from the acks queue.
    public static let consumerCompleted = "consumer.completed"
}

/// Coordinations written as rows: each with its consumers (waiting, with their first deadline) and its
/// `deletion.requested` event in the outbox (a row without an envelope: the envelope is built from the coordination's
/// row when the event is read, ``RequestedEvent``). A coordination whose id is there already (a replayed batch) is
/// left as it is. A tail's batch logs its coordinations instead (``CoordinationLogWrite``), and the log is spread
/// into these rows by the next coordination transaction; an erasure's coordination is written here directly.
public struct CoordinationWrite: CommitWrite {
    public var coordinations: [PlannedCoordination]

    public init(coordinations: [PlannedCoordination]) { self.coordinations = coordinations }

    public func write(_ db: Database, at date: Date) throws {
        for planned in coordinations { try Self.insert(db, planned, at: date) }
    }

    /// Writes one coordination made at `date` (its deadlines count from then).
    static func insert(_ db: Database, _ planned: PlannedCoordination, at date: Date) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO coordinations (id, rule, source, table_name, archive_key, item_key, deletion_kind, deleted_at, state,
                created_at, cap_at, next_deadline, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?)
            ON CONFLICT (id) DO NOTHING
            """)
        let consumer = try db.cachedStatement(sql: """
            INSERT INTO coordination_consumers (coordination, consumer, position, critical, timeout, on_timeout, status, deadline)
            VALUES (?, ?, ?, ?, ?, ?, 'waiting', ?)
            """)
        let now = date.timeIntervalSince1970
        let cap = now + planned.policy.heartbeatCap.seconds
        let deadlines = planned.policy.consumers.map { min(cap, now + $0.timeout.seconds) }
        try insert.execute(arguments: [
            planned.id, planned.rule, planned.source, planned.table, planned.archiveKey, planned.itemKey, planned.deletionKind.rawValue,
            planned.deletedAt, now, cap, deadlines.min(), planned.detail,
        ])
        guard db.changesCount > 0 else { return }
        for (position, expected) in planned.policy.consumers.enumerated() {
            CoordinationMetrics.waiting(consumer: expected.name)
            try consumer.execute(arguments: [
                planned.id, expected.name, position, expected.critical, expected.timeout.seconds, expected.onTimeout.rawValue, deadlines[position],
            ])
        }
        if let requested = planned.requested {
            try Outbox.append(db, requested, at: date)
            return
        }
        try Outbox.append(
            db, id: CloudEvent.id(subject: planned.id, type: CoordinationEvents.requested), type: CoordinationEvents.requested,
            subject: planned.id, time: planned.deletedAt, envelope: "", at: date)
    }
}

enum SHA256Hex {
    static func digest(_ text: String) -> [UInt8] { Array(SHA256.hash(data: Array(text.utf8))) }
}
