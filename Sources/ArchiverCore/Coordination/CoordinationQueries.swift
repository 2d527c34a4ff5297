import Foundation
import GRDB
import JSONToolkit

/// One coordination as `coordination list` and `coordination show` print it.
public struct CoordinationView: Sendable {
    public struct Consumer: Sendable {
        public var name: String
        public var critical: Bool
        public var status: ConsumerStatus
        public var deadline: Date
        public var heartbeats: Int
        public var ackedAt: Date?
        public var detail: String?
        public var lateStatus: String?
        public var lateAt: Date?
    }

    public var id: String
    public var rule: String
    public var source: String
    public var archiveKey: String
    public var state: CoordinationState
    public var reason: String?
    public var createdAt: Date
    public var capAt: Date
    public var nextDeadline: Date?
    public var releasedAt: Date?
    public var completedAt: Date?
    public var warnings: Int
    public var consumers: [Consumer] = []
    /// The held actions' ids and states (`show` only).
    public var actions: [(id: String, action: String, state: String)] = []

    init(row: Row) {
        id = row["id"]
        rule = row["rule"]
        source = row["source"]
        archiveKey = row["archive_key"]
        state = CoordinationState(rawValue: row["state"]) ?? .parked
        reason = row["reason"]
        createdAt = Date(timeIntervalSince1970: row["created_at"])
        capAt = Date(timeIntervalSince1970: row["cap_at"])
        nextDeadline = (row["next_deadline"] as Double?).map(Date.init(timeIntervalSince1970:))
        releasedAt = (row["released_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        completedAt = (row["completed_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        warnings = row["warnings"]
    }

    /// The consumers still awaited.
    public var awaited: [String] { consumers.filter { $0.status == .waiting }.map(\.name) }

    public func json(now: Date) -> JSONValue {
        func date(_ value: Date?) -> JSONValue { value.map { .string(QueueTime.text($0)) } ?? .null }
        return .object([
            ("id", .string(id)), ("rule", .string(rule)), ("source", .string(source)), ("archive_key", .string(archiveKey)),
            ("state", .string(state.rawValue)), ("reason", reason.map(JSONValue.string) ?? .null),
            ("created_at", date(createdAt)), ("cap_at", date(capAt)), ("next_deadline", date(nextDeadline)),
            ("seconds_left", nextDeadline.map { .number(String(format: "%.3f", max(0, $0.timeIntervalSince(now)))) } ?? .null),
            ("released_at", date(releasedAt)), ("completed_at", date(completedAt)), ("warnings", .integer(warnings)),
            ("awaited", .array(awaited.map(JSONValue.string))),
            ("consumers", .array(consumers.map { consumer in
                .object([
                    ("name", .string(consumer.name)), ("critical", .bool(consumer.critical)), ("status", .string(consumer.status.rawValue)),
                    ("deadline", date(consumer.deadline)), ("heartbeats", .integer(consumer.heartbeats)), ("acked_at", date(consumer.ackedAt)),
                    ("detail", consumer.detail.map(JSONValue.string) ?? .null),
                    ("late", consumer.lateStatus.map { .object([("status", .string($0)), ("at", date(consumer.lateAt))]) } ?? .null),
                ])
            })),
            ("actions", .array(actions.map { .object([("id", .string($0.id)), ("action", .string($0.action)), ("state", .string($0.state))]) })),
        ])
    }
}

extension CoordinationStore {
    /// Coordinations, newest first, optionally of one state.
    public func list(state: CoordinationState? = nil, limit: Int = 100) throws -> [CoordinationView] {
        try reading { db in
            let rows: [Row]
            if let state {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM coordinations WHERE state = ? ORDER BY created_at DESC, id LIMIT ?", arguments: [state.rawValue, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM coordinations ORDER BY created_at DESC, id LIMIT ?", arguments: [limit])
            }
            return try rows.map { try Self.view(db, row: $0, actions: false) }
        }
    }

    /// One coordination by its id or the start of it (at least 8 hex digits).
    public func show(_ idOrPrefix: String) throws -> CoordinationView {
        try reading { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT * FROM coordinations WHERE id = ? OR (length(?) >= 8 AND id LIKE ? || '%') LIMIT 2",
                arguments: [idOrPrefix, idOrPrefix, idOrPrefix])
            guard rows.count == 1 else { throw CoordinationError.unknown(idOrPrefix) }
            return try Self.view(db, row: rows[0], actions: true)
        }
    }

    static func view(_ db: Database, row: Row, actions: Bool) throws -> CoordinationView {
        var view = CoordinationView(row: row)
        view.consumers = try Row.fetchAll(
            db, sql: "SELECT * FROM coordination_consumers WHERE coordination = ? ORDER BY position", arguments: [view.id]
        ).map { consumer in
            CoordinationView.Consumer(
                name: consumer["consumer"], critical: consumer["critical"], status: ConsumerStatus(rawValue: consumer["status"]) ?? .waiting,
                deadline: Date(timeIntervalSince1970: consumer["deadline"]), heartbeats: consumer["heartbeats"],
                ackedAt: (consumer["acked_at"] as Double?).map(Date.init(timeIntervalSince1970:)), detail: consumer["detail"],
                lateStatus: consumer["late_status"], lateAt: (consumer["late_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
        }
        if actions {
            view.actions = try Row.fetchAll(
                db, sql: "SELECT id, action, state FROM queue_entries WHERE hold = ? ORDER BY action_index", arguments: [view.id]
            ).map { ($0["id"], $0["action"], $0["state"]) }
        }
        return view
    }

    /// Coordinations per state (every state listed).
    public func counts() throws -> [CoordinationState: Int] {
        try reading { db in
            var counts = Dictionary(uniqueKeysWithValues: CoordinationState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM coordinations GROUP BY state") {
                if let state = CoordinationState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// Outbox events after `seq`, in order.
    public func outbox(after seq: Int64 = 0, limit: Int = 10_000) throws -> [OutboxEvent] {
        try reading { db in
            try Outbox.events(db, after: seq, limit: limit)
        }
    }

    /// When the next waiting coordination's deadline comes (nil when none waits).
    public func nextDeadline() throws -> Date? {
        try reading { db in
            try Double.fetchOne(db, sql: "SELECT MIN(next_deadline) FROM coordinations WHERE state = 'waiting'")
        }.map(Date.init(timeIntervalSince1970:))
    }
}
