import ArchiverCore
import Foundation
import GRDB
import JSONToolkit

/// Reads the change table that `archiver sqlite init` put into an application database
/// (`--source sqlite:<db>`): every recorded deletion, in `seq` order, each as one DynamoDB Streams-shaped
/// REMOVE record.
///
/// Access is read-only and polite: each batch is one short read transaction (in WAL mode it never blocks
/// the application; in rollback-journal mode it holds the shared lock for milliseconds), and a busy
/// database is waited for, not failed on. The whole database is one partition (`""`); the checkpoint is the
/// last `seq` of a batch.
public struct SQLiteChangeSource: ChangeSource {
    /// `sqlite:<absolute path of the database>`.
    public let id: String
    /// The database, as an absolute path.
    public let databasePath: String
    /// The most change rows one batch holds.
    public let batchSize: Int
    /// How long `follow` waits between looks for new rows, in seconds.
    public let pollInterval: Double

    let queue: DatabaseQueue
    private let textAsBytes: Bool

    /// Opens the database read-only and checks that it has a change table.
    /// - Throws: `SQLiteArchiveError` when there is no database at the path, it is not SQLite, or it has no
    ///   change table (the message says to run `archiver sqlite init`).
    public init(databasePath: String, batchSize: Int = 2000, pollInterval: Double = 0.2) throws {
        let path = SQLiteDatabase.absolutePath(databasePath)
        self.databasePath = path
        self.id = "sqlite:" + path
        self.batchSize = max(1, batchSize)
        self.pollInterval = pollInterval
        queue = try SQLiteDatabase.open(path, readonly: true)
        do {
            textAsBytes = try queue.read { db in
                guard try db.tableExists(ChangeTableSchema.changesTable), try db.tableExists(ChangeTableSchema.valuesTable) else {
                    let tables = try TableSchema.applicationTables(db)
                    let example = tables.first.map(shellWord) ?? "<table>"
                    throw SQLiteArchiveError(.noChangeTable, "\(path) has no archiver change table; run `archiver sqlite init \(path) --table \(example)` for each table whose deletions should be archived")
                }
                // Text is read as its bytes; in a UTF-16 database those bytes would be UTF-16, so read it as text there.
                return try String.fetchOne(db, sql: "PRAGMA encoding") == "UTF-8"
            }
        } catch {
            throw SQLiteDatabase.describe(error, path: path)
        }
    }

    public func batches(after checkpoints: [String: String], follow: Bool, stop: StopSignal) -> AsyncThrowingStream<SourceBatch, any Error> {
        let position = Position()
        let checkpoint = checkpoints[""]
        let source = self
        return AsyncThrowingStream {
            if position.last == nil {
                guard let text = checkpoint else {
                    position.last = 0
                    return try await source.next(position: position, follow: follow, stop: stop)
                }
                guard let seq = Int64(text), seq >= 0 else {
                    throw SQLiteArchiveError(.badCheckpoint, "the checkpoint \"\(text.prefix(64))\" of \(source.id) is not a change-table sequence number; remove it from the state folder to start from the first recorded deletion")
                }
                position.last = seq
            }
            return try await source.next(position: position, follow: follow, stop: stop)
        }
    }

    /// The next batch after `position`, waiting for one when following; nil when done.
    private func next(position: Position, follow: Bool, stop: StopSignal) async throws -> SourceBatch? {
        while !stop.isStopped && !Task.isCancelled {
            let after = position.last ?? 0
            let batch: SourceBatch?
            do {
                batch = try await queue.read { db in try readBatch(db, after: after) }
            } catch {
                throw SQLiteDatabase.describe(error, path: databasePath)
            }
            if let batch {
                position.last = Int64(batch.checkpoint)
                return batch
            }
            guard follow else { return nil }
            await stop.sleep(seconds: pollInterval)
        }
        return nil
    }

    /// Reads up to `batchSize` change rows after `seq` and turns them into records.
    private func readBatch(_ db: Database, after seq: Int64) throws -> SourceBatch? {
        let changes = try Row.fetchAll(db, sql: """
            SELECT seq, table_name, event_name, kind, event_time_ms, columns, key_columns
            FROM archiver_changes WHERE seq > ? ORDER BY seq LIMIT ?
            """, arguments: [seq, batchSize])
        guard let firstRow = changes.first, let lastRow = changes.last else { return nil }
        let first: Int64 = firstRow["seq"]
        let last: Int64 = lastRow["seq"]

        var valuesBySeq: [Int64: [Int: SQLiteValue]] = [:]
        let valueSQL = textAsBytes
            ? "SELECT seq, ord, typeof(value), CASE WHEN typeof(value) = 'text' THEN CAST(value AS BLOB) ELSE value END FROM archiver_change_values WHERE seq BETWEEN ? AND ?"
            : "SELECT seq, ord, typeof(value), value FROM archiver_change_values WHERE seq BETWEEN ? AND ?"
        let cursor = try Row.fetchCursor(db, sql: valueSQL, arguments: [first, last])
        while let row = try cursor.next() {
            let rowSeq: Int64 = row[0]
            let ord: Int = row[1]
            valuesBySeq[rowSeq, default: [:]][ord] = SQLiteValue(type: row[2], value: row[3] as DatabaseValue)
        }

        var namesCache: [String: [String]] = [:]
        func names(_ json: String) -> [String] {
            if let cached = namesCache[json] { return cached }
            let parsed = (try? JSONValue.parse(json)).flatMap { value -> [String]? in
                guard case .array(let items) = value else { return nil }
                return items.compactMap(\.stringValue)
            } ?? []
            namesCache[json] = parsed
            return parsed
        }

        var buffer: [UInt8] = []
        buffer.reserveCapacity(changes.count * 512)
        var records: [Range<Int>] = []
        var labels: [String] = []
        records.reserveCapacity(changes.count)
        labels.reserveCapacity(changes.count)
        for change in changes {
            let rowSeq: Int64 = change["seq"]
            let row = ChangeRow(
                seq: rowSeq, table: change["table_name"], eventName: change["event_name"], kind: change["kind"],
                eventTimeMilliseconds: change["event_time_ms"], columns: names(change["columns"]),
                keyColumns: names(change["key_columns"]), values: valuesBySeq[rowSeq] ?? [:])
            let start = buffer.count
            buffer.append(contentsOf: row.streamRecord.utf8)
            records.append(start..<buffer.count)
            buffer.append(0x0A)
            labels.append("\(ChangeTableSchema.changesTable) seq \(rowSeq)")
        }
        return SourceBatch(buffer: buffer, records: records, positions: .labels(labels), checkpoint: String(last))
    }
}

/// Where a stream of batches stands: the last `seq` handed out (nil before the checkpoint is read).
/// The stream calls its producer one call at a time; the lock only satisfies Sendable.
private final class Position: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64?
    var last: Int64? {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
