import Foundation
import GRDB
import JSONToolkit

/// Which entries a `queue` command acts on: given ids, or everything a filter selects.
public struct QueueFilter: Sendable, Equatable {
    /// Full ids (``QueueStore/resolve(_:)`` turns prefixes into ids); empty: no id condition.
    public var ids: [String] = []
    /// Empty: any state.
    public var states: [QueueState] = []
    public var rule: String?

    public init(ids: [String] = [], states: [QueueState] = [], rule: String? = nil) {
        self.ids = ids
        self.states = states
        self.rule = rule
    }

    /// Whether it selects anything narrower than the whole queue.
    public var isEmpty: Bool { ids.isEmpty && states.isEmpty && rule == nil }

    /// The SQL condition and its arguments.
    var condition: (sql: String, arguments: StatementArguments) {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if !ids.isEmpty {
            clauses.append("id IN (\(ids.map { _ in "?" }.joined(separator: ", ")))")
            arguments += ids
        }
        if !states.isEmpty {
            clauses.append("state IN (\(states.map { _ in "?" }.joined(separator: ", ")))")
            arguments += states.map(\.rawValue)
        }
        if let rule {
            clauses.append("rule = ?")
            arguments.append(rule)
        }
        return (clauses.isEmpty ? "1" : clauses.joined(separator: " AND "), StatementArguments(arguments))
    }
}

/// A `queue` command that cannot do what was asked. Says what to do.
public struct QueueError: Error, Sendable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable {
        private enum Base: Hashable, Sendable { case noEntry, ambiguousID, invalidID }
        private let base: Base
        private init(_ base: Base) { self.base = base }
        /// No entry has that id.
        public static let noEntry = Kind(.noEntry)
        /// The id prefix matches more than one entry.
        public static let ambiguousID = Kind(.ambiguousID)
        /// The text is not an id (hex, at least 4 characters).
        public static let invalidID = Kind(.invalidID)
    }

    public let kind: Kind
    public let description: String

    static func noEntry(_ id: String) -> QueueError { QueueError(kind: .noEntry, description: "no queue entry '\(id)'; `archiver queue list` shows them") }
    static func ambiguous(_ id: String, _ count: Int) -> QueueError {
        QueueError(kind: .ambiguousID, description: "'\(id)' is the start of \(count) entries' ids; give more of it")
    }
    static func invalid(_ id: String) -> QueueError {
        QueueError(kind: .invalidID, description: "'\(id)' is not a queue entry id (hex digits, at least 4, as `archiver queue list` shows them)")
    }
}

/// What `queue stats` reports.
public struct QueueStats: Sendable, Equatable {
    /// Entries per state, every state listed.
    public var counts: [QueueState: Int]
    /// When the oldest entry still waiting to run was made.
    public var oldestWaiting: Date?
    /// When the next waiting entry is due.
    public var nextDue: Date?
    /// Entries by attempts made.
    public var attempts: [Int: Int]
    /// Entries retrying or parked, by their last error's code.
    public var errors: [String: Int]

    public var total: Int { counts.values.reduce(0, +) }

    /// Entries per state by the state's name, every state listed (zeros too).
    public var stateCounts: [String: Int] {
        Dictionary(uniqueKeysWithValues: QueueState.allCases.map { ($0.rawValue, counts[$0] ?? 0) })
    }

    public func json(now: Date) -> JSONValue {
        .object([
            ("total", .integer(total)),
            ("states", .object(QueueState.allCases.map { ($0.rawValue, .integer(counts[$0] ?? 0)) })),
            ("oldest_waiting_at", oldestWaiting.map { .string(QueueTime.text($0)) } ?? .null),
            ("oldest_waiting_age_seconds", oldestWaiting.map { .number(String(format: "%.3f", max(0, now.timeIntervalSince($0)))) } ?? .null),
            ("next_due_at", nextDue.map { .string(QueueTime.text($0)) } ?? .null),
            ("attempts", .object(attempts.sorted { $0.key < $1.key }.map { (String($0.key), .integer($0.value)) })),
            ("errors", .object(errors.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { ($0.key, .integer($0.value)) })),
        ])
    }
}

extension QueueStore {
    /// Counts per state, the oldest waiting entry, attempts spread and errors by code: a few indexed reads, whatever
    /// the queue's length.
    public func stats() throws -> QueueStats {
        try reading { db in
            var counts: [QueueState: Int] = [:]
            var attempts: [Int: Int] = [:]
            var errors: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, attempts, error_code, entries FROM queue_counts WHERE entries > 0") {
                guard let state = QueueState(rawValue: row["state"]) else { continue }
                let entries: Int = row["entries"]
                counts[state, default: 0] += entries
                attempts[row["attempts"], default: 0] += entries
                let code: String = row["error_code"]
                if !code.isEmpty, state == .retryable || state == .parked { errors[code, default: 0] += entries }
            }
            // One MIN per state: each an index seek (a MIN over an IN list would scan).
            func earliest(_ column: String, _ states: [QueueState]) throws -> Date? {
                let parts = states.map { "SELECT MIN(\(column)) AS m FROM queue_entries WHERE state = '\($0.rawValue)'" }
                return try Double.fetchOne(db, sql: "SELECT MIN(m) FROM (\(parts.joined(separator: " UNION ALL ")))").map(Date.init(timeIntervalSince1970:))
            }
            return QueueStats(
                counts: counts, oldestWaiting: try earliest("created_at", QueueState.waiting),
                nextDue: try earliest("next_attempt_at", [.available, .scheduled, .retryable]), attempts: attempts, errors: errors)
        }
    }

    /// The full ids of entries named by id or by the start of an id (at least 4 hex digits).
    /// - Throws: `QueueError` for text that is not an id, matches no entry, or matches several.
    public func resolve(_ texts: [String]) throws -> [String] {
        try reading { db in
            try texts.map { text in
                let prefix = text.lowercased()
                guard prefix.count >= 4, prefix.count <= 64, prefix.allSatisfy(\.isHexDigit) else { throw QueueError.invalid(text) }
                let ids = try String.fetchAll(
                    db, sql: "SELECT id FROM queue_entries WHERE id >= ? AND id < ? LIMIT 2", arguments: [prefix, prefix + "g"])
                guard let id = ids.first else { throw QueueError.noEntry(text) }
                guard ids.count == 1 else { throw QueueError.ambiguous(text, ids.count) }
                return id
            }
        }
    }

    /// One entry, by id or unique id prefix.
    public func entry(_ id: String) throws -> QueueEntry {
        let full = try resolve([id])[0]
        return try reading { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(QueueSchema.columns) FROM queue_entries WHERE id = ?", arguments: [full]) else {
                throw QueueError.noEntry(id)
            }
            return QueueEntry(row: row)
        }
    }

    /// Entries the filter selects, oldest first; at most `limit` (0: all).
    public func list(_ filter: QueueFilter, limit: Int = 0) throws -> [QueueEntry] {
        var entries: [QueueEntry] = []
        try each(filter, limit: limit) { entries.append($0) }
        return entries
    }

    /// Calls `body` for each entry the filter selects, oldest first, reading them a few at a time (for reports over
    /// the whole queue).
    public func each(_ filter: QueueFilter, limit: Int = 0, _ body: (QueueEntry) throws -> Void) throws {
        let (condition, arguments) = filter.condition
        let order = filter.states.count == 1 ? "created_at, id" : "rowid"
        try reading { db in
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT \(QueueSchema.columns) FROM queue_entries WHERE \(condition) ORDER BY \(order)\(limit > 0 ? " LIMIT \(limit)" : "")",
                arguments: arguments)
            while let row = try cursor.next() { try body(QueueEntry(row: row)) }
        }
    }

    /// What a bulk command changed, and what it left alone because of the entries' state.
    public struct Changed: Sendable, Equatable {
        public var changed: Int
        public var leftAlone: Int
        /// Of those left alone, the entries `held` by a coordination (they wait for its consumers; the coordination's
        /// commands decide them).
        public var held: Int

        public init(changed: Int, leftAlone: Int, held: Int = 0) {
            self.changed = changed
            self.leftAlone = leftAlone
            self.held = held
        }
    }

    private func change(_ filter: QueueFilter, allowed: [QueueState], _ body: (Database, String, StatementArguments) throws -> Void) throws -> Changed {
        let (condition, arguments) = filter.condition
        return try writing { db in
            let selected = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM queue_entries WHERE \(condition)", arguments: arguments) ?? 0
            let held = allowed.contains(.held) ? 0
                : try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM queue_entries WHERE (\(condition)) AND state = 'held'", arguments: arguments) ?? 0
            let states = allowed.map { "'\($0.rawValue)'" }.joined(separator: ", ")
            try body(db, "(\(condition)) AND state IN (\(states))", arguments)
            return Changed(changed: db.changesCount, leftAlone: selected - db.changesCount, held: held)
        }
    }

    /// Makes entries available now (parked, retrying, scheduled or cancelled ones; not completed, executing or
    /// held: a held entry has not failed, it waits for its coordination's consumers). An entry that used up its
    /// attempts gets one more, as Oban's retry does; its error history stays.
    public func retry(_ filter: QueueFilter, now: Date) throws -> Changed {
        try change(filter, allowed: [.parked, .retryable, .scheduled, .cancelled]) { db, condition, arguments in
            try db.execute(
                sql: """
                    UPDATE queue_entries SET state = 'available', next_attempt_at = ?, completed_at = NULL,
                        max_attempts = MAX(max_attempts, attempts + 1)
                    WHERE \(condition)
                    """,
                arguments: [now.timeIntervalSince1970] + arguments)
        }
    }

    /// Cancels entries that have not run to completion and are not running (they never will). A held entry is
    /// cancelled too: its coordination still waits for its consumers and completes as before, and its
    /// `deletion.completed` lists the action as `cancelled`.
    public func cancel(_ filter: QueueFilter, now: Date) throws -> Changed {
        try change(filter, allowed: [.scheduled, .available, .retryable, .parked, .held]) { db, condition, arguments in
            try db.execute(
                sql: "UPDATE queue_entries SET state = 'cancelled', completed_at = ? WHERE \(condition)",
                arguments: [now.timeIntervalSince1970] + arguments)
        }
    }

    /// Deletes entries for good (not executing ones, nor held ones: their coordination reports every action it held,
    /// so a held entry is cancelled first, or its coordination cancelled).
    public func drop(_ filter: QueueFilter) throws -> Changed {
        try change(filter, allowed: QueueState.settled.filter { $0 != .held }) { db, condition, arguments in
            try db.execute(sql: "DELETE FROM queue_entries WHERE \(condition)", arguments: arguments)
        }
    }

    /// The entries retention removes: completed and cancelled ones finished before the argument (epoch seconds).
    static let finishedBefore = "state IN ('completed', 'cancelled') AND completed_at < ?"

    /// Deletes completed and cancelled entries finished before `date` (retention); returns how many.
    @discardableResult
    public func prune(finishedBefore date: Date) throws -> Int {
        try writing { db in
            try db.execute(sql: "DELETE FROM queue_entries WHERE \(Self.finishedBefore)", arguments: [date.timeIntervalSince1970])
            return db.changesCount
        }
    }
}
