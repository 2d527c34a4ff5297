import Foundation
import GRDB

/// The coordinations a tail's batch made, packed into one row of `coordination_log` in the batch's commit
/// transaction, and spread into their rows (``CoordinationWrite``) by the next coordination store transaction.
///
/// Writing a coordination as rows costs three inserts and their indexes (the coordination, its consumers, its
/// `deletion.requested` in the outbox); a batch of a thousand coordinated deletions would spend most of its commit on
/// them. The log keeps the commit at one insert per batch, still durable in the same transaction as the checkpoint
/// and the held actions (a kill after the commit loses nothing: the next spread makes the rows). Every transaction of
/// ``CoordinationStore`` spreads what the log holds first, so acks, timeouts, releases, `coordination list` and the
/// outbox all see the rows; the deadlines count from the commit's time, not the spread's. A consumer learns a
/// coordination's id only from its `deletion.requested`, which the spread writes, so no ack can come before it.
public enum CoordinationLog {
    static let migrationName = "coordination_log"

    @Sendable static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE coordination_log (
                seq INTEGER PRIMARY KEY,
                created_at REAL NOT NULL,
                entries INTEGER NOT NULL,
                packed BLOB NOT NULL
            )
            """)
    }

    /// Whether the log holds coordinations not yet spread into rows.
    static func hasPending(_ db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM coordination_log)")) ?? false
    }

    /// Spreads every logged coordination into its rows, in the order they were logged, and empties the log. Returns
    /// how many it spread (a replayed batch's coordinations are there already and are left as they are).
    @discardableResult
    static func spread(_ db: Database) throws -> Int {
        guard try hasPending(db) else { return 0 }
        var last: Int64 = 0
        var count = 0
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT seq, created_at, packed FROM coordination_log ORDER BY seq"))
        var batches: [(Int64, Date, [UInt8])] = []
        while let row = try rows.next() {
            batches.append((row[0], Date(timeIntervalSince1970: row[1]), [UInt8]((row[2] as Data?) ?? Data())))
        }
        for (seq, created, packed) in batches {
            let coordinations: [PlannedCoordination]
            do {
                coordinations = try PackedCoordinations.decode(packed)
            } catch let error as PackedCoordinations.Unreadable {
                throw StateError.unusable("the coordination log's row \(seq) cannot be read: \(error); nothing was changed")
            } catch {
                throw StateError.unusable("the coordination log's row \(seq) cannot be read (\(error)); the state database is damaged: restore it from a backup, or delete the row with sqlite3 and replay the feed from before it")
            }
            for planned in coordinations { try CoordinationWrite.insert(db, planned, at: created) }
            count += coordinations.count
            last = seq
        }
        try db.cachedStatement(sql: "DELETE FROM coordination_log WHERE seq <= ?").execute(arguments: [last])
        return count
    }

    /// Coordinations logged and not yet spread.
    static func pendingCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(SUM(entries), 0) FROM coordination_log")) ?? 0
    }
}

/// One coordination packed for the log (on the worker thread that planned it, not on the commit path).
public struct PackedCoordination: Sendable, Equatable {
    let bytes: [UInt8]

    init(_ planned: PlannedCoordination) {
        var out = PackedWriter()
        out.bytes.reserveCapacity(512)
        PackedCoordinations.write(planned, to: &out)
        bytes = out.bytes
    }
}

/// A batch's coordinations, written in its commit transaction as one row of the ``CoordinationLog``.
public struct CoordinationLogWrite: CommitWrite {
    public var coordinations: [PackedCoordination]

    public init(coordinations: [PackedCoordination]) { self.coordinations = coordinations }

    public func write(_ db: Database, at date: Date) throws {
        guard !coordinations.isEmpty else { return }
        var out = PackedWriter()
        out.bytes.reserveCapacity(coordinations.reduce(16) { $0 + $1.bytes.count })
        out.int(PackedCoordinations.version)
        out.int(UInt64(coordinations.count))
        for coordination in coordinations { out.bytes += coordination.bytes }
        try db.cachedStatement(sql: "INSERT INTO coordination_log (created_at, entries, packed) VALUES (?, ?, ?)")
            .execute(arguments: [date.timeIntervalSince1970, coordinations.count, Data(out.bytes)])
    }
}

/// The log row's bytes: a version, a count, then each coordination's fields (strings as a length and UTF-8, numbers
/// as LEB128, durations as their seconds' bits and their text).
enum PackedCoordinations {
    static let version: UInt64 = 1

    struct Truncated: Error, CustomStringConvertible {
        var description: String { "it ends in the middle of a coordination" }
    }

    /// A row whose bytes this archiver does not read: a later version wrote it, or a value it does not know.
    struct Unreadable: Error, CustomStringConvertible {
        let what: String
        var description: String { what }
    }

    static func write(_ planned: PlannedCoordination, to out: inout PackedWriter) {
        out.string(planned.id)
        out.string(planned.rule)
        out.string(planned.source)
        out.optional(planned.table)
        out.string(planned.archiveKey)
        out.string(planned.itemKey)
        out.string(planned.deletionKind.rawValue)
        out.string(planned.deletedAt)
        out.string(planned.detail)
        out.duration(planned.policy.timeout)
        out.duration(planned.policy.heartbeatCap)
        out.int(UInt64(planned.policy.consumers.count))
        for consumer in planned.policy.consumers {
            out.string(consumer.name)
            out.int(consumer.critical ? 1 : 0)
            out.duration(consumer.timeout)
            out.string(consumer.onTimeout.rawValue)
        }
    }

    static func decode(_ bytes: [UInt8]) throws -> [PlannedCoordination] {
        var reader = PackedReader(bytes: bytes)
        let found = try reader.int()
        guard found == version else {
            throw Unreadable(what: "it is in format \(found), and this archiver reads format \(version): run the archiver that wrote it, or a later one")
        }
        let count = Int(try reader.int())
        var result: [PlannedCoordination] = []
        result.reserveCapacity(count)
        for _ in 0..<count {
            let id = try reader.string(), rule = try reader.string(), source = try reader.string(), table = try reader.optional()
            let archiveKey = try reader.string(), itemKey = try reader.string()
            let kindText = try reader.string()
            guard let kind = DeletionKind(rawValue: kindText) else { throw Unreadable(what: "it names a deletion kind '\(kindText)' this archiver does not know") }
            let deletedAt = try reader.string(), detail = try reader.string()
            let timeout = try reader.duration(), cap = try reader.duration()
            var consumers: [CoordinationPolicy.Consumer] = []
            for _ in 0..<Int(try reader.int()) {
                let name = try reader.string(), critical = try reader.int() == 1, wait = try reader.duration()
                let onTimeoutText = try reader.string()
                guard let onTimeout = CoordinationPolicy.OnTimeout(rawValue: onTimeoutText) else {
                    throw Unreadable(what: "it names an on-timeout '\(onTimeoutText)' this archiver does not know")
                }
                consumers.append(CoordinationPolicy.Consumer(name: name, critical: critical, timeout: wait, onTimeout: onTimeout))
            }
            result.append(PlannedCoordination(
                id: id, rule: rule, source: source, table: table, archiveKey: archiveKey, itemKey: itemKey, deletionKind: kind,
                deletedAt: deletedAt, policy: CoordinationPolicy(consumers: consumers, timeout: timeout, heartbeatCap: cap), detail: detail))
        }
        return result
    }
}

struct PackedWriter {
    var bytes: [UInt8] = []

    mutating func int(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            int(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func optional(_ text: String?) {
        guard let text else { return int(0) }
        int(1)
        string(text)
    }

    mutating func duration(_ duration: ConfigurationDuration) {
        int(duration.seconds.bitPattern)
        string(duration.text)
    }
}

struct PackedReader {
    let bytes: [UInt8]
    var at = 0

    mutating func int() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard at < bytes.count, shift < 64 else { throw PackedCoordinations.Truncated() }
            let byte = bytes[at]
            at += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    mutating func string() throws -> String {
        let count = Int(try int())
        guard count <= bytes.count - at else { throw PackedCoordinations.Truncated() }
        defer { at += count }
        return String(decoding: bytes[at..<(at + count)], as: UTF8.self)
    }

    mutating func optional() throws -> String? {
        try int() == 0 ? nil : try string()
    }

    mutating func duration() throws -> ConfigurationDuration {
        let seconds = Double(bitPattern: try int())
        return ConfigurationDuration(seconds: seconds, text: try string())
    }
}
