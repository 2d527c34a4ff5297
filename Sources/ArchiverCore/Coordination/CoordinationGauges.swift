import Foundation
import GRDB

/// How far one delivery target of the outbox has got, for metrics and the page.
public struct OutboxTargetState: Sendable, Equatable {
    /// The target's name (as `outbox_targets` keeps it: its kind and where it delivers).
    public var target: String
    /// Events delivered to it.
    public var delivered: Int
    /// Events written but not delivered to it yet.
    public var backlog: Int
    /// Events it refused for good (parked with the reason).
    public var parked: Int
    /// Failed delivery attempts in a row (0 once a delivery goes through).
    public var failedAttempts: Int
    /// The last failure's reason, while it keeps failing.
    public var lastError: String?
    /// Whether it was disabled (a webhook that answered 410 Gone).
    public var disabled: Bool
}

extension CoordinationStore {
    /// Expected consumers of every coordination, by their status (every status listed), and the late acks recorded
    /// (acks that came after their coordination was decided): one pass over the consumers.
    public func consumerCounts() throws -> (byStatus: [ConsumerStatus: Int], late: Int) {
        try reading { db in
            var counts = Dictionary(uniqueKeysWithValues: ConsumerStatus.allCases.map { ($0, 0) })
            var late = 0
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n, COUNT(late_status) AS late FROM coordination_consumers GROUP BY status") {
                if let status = ConsumerStatus(rawValue: row["status"]) { counts[status] = row["n"] }
                late += row["late"] as Int
            }
            return (counts, late)
        }
    }

    /// Every delivery target the outbox has delivered to (or tried), with its backlog: a few rows, whatever the outbox's length.
    public func outboxTargets() throws -> [OutboxTargetState] {
        try reading { db in
            let last = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), 0) FROM outbox_events") ?? 0
            var parked: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT target, COUNT(*) AS n FROM outbox_parked GROUP BY target") { parked[row["target"]] = row["n"] }
            return try Row.fetchAll(db, sql: "SELECT target, delivered_seq, delivered, attempts, last_error, disabled FROM outbox_targets ORDER BY target").map { row in
                let target: String = row["target"]
                return OutboxTargetState(
                    target: target, delivered: row["delivered"], backlog: Int(max(0, last - (row["delivered_seq"] as Int64))),
                    parked: parked[target] ?? 0, failedAttempts: row["attempts"], lastError: row["last_error"],
                    disabled: (row["disabled"] as String?) != nil)
            }
        }
    }
}
