import ArchiverCore
import Foundation
import GRDB

/// archiver's change table inside an application's SQLite database: installing it (`archiver sqlite init`)
/// and expiring rows by their TTL column (`archiver sqlite expire`).
///
/// Installing adds `archiver_changes`, `archiver_change_values` and `archiver_tables`, and an
/// AFTER DELETE trigger on the application table that records every deleted row as a REMOVE.
/// The application's own statements are unchanged: its inserts, updates and deletes work as before.
public enum ChangeTable {
    /// Adds the change table and the delete trigger for `table` to the existing database at `databasePath`.
    ///
    /// Idempotent: running it again keeps every recorded change, and rewrites the trigger only when the
    /// table's columns changed (run it again after adding, renaming or dropping a column: the trigger names
    /// each column). A table without a declared primary key is keyed by its rowid (see the docs: VACUUM
    /// may renumber rowids).
    /// - Parameters:
    ///   - ttlColumn: the column holding each row's expiry in epoch seconds, for `expire`; nil keeps the one
    ///     configured before, if any.
    /// - Throws: `SQLiteArchiveError` when the database or the table does not exist, the table is a view or
    ///   virtual table, the TTL column does not exist, or the table has no key archiver can use.
    public static func install(databasePath: String, table: String, ttlColumn: String? = nil) throws -> ChangeTableReport {
        let path = SQLiteDatabase.absolutePath(databasePath)
        let queue = try SQLiteDatabase.open(path, readonly: false)
        do {
            return try queue.writeWithoutTransaction { db in
                try SQLiteDatabase.immediateTransaction(db) {
                    try install(db, path: path, table: table, ttlColumn: ttlColumn)
                }
            }
        } catch {
            throw SQLiteDatabase.describe(error, path: path)
        }
    }

    /// Deletes, in one transaction, the rows of `table` whose TTL column holds a number of epoch seconds
    /// below `now`. The trigger records each as a TTL expiry (a DynamoDB-style service identity) at `now`.
    /// Rows whose TTL is NULL, text or a blob never expire.
    /// - Returns: how many rows were deleted.
    /// - Throws: `SQLiteArchiveError` when the table is not set up with a TTL column (`archiver sqlite init --ttl-column`).
    public static func expire(databasePath: String, table: String, now: Date) throws -> Int {
        let path = SQLiteDatabase.absolutePath(databasePath)
        let queue = try SQLiteDatabase.open(path, readonly: false)
        let nowSeconds = now.timeIntervalSince1970
        let nowMilliseconds = Int64((nowSeconds * 1000).rounded())
        do {
            return try queue.writeWithoutTransaction { db in
                try SQLiteDatabase.immediateTransaction(db) {
                    let schema = try TableSchema.read(db, table: table, databasePath: path)
                    let ttlColumn = try configuredTTLColumn(db, schema: schema, path: path)
                    guard let column = schema.columns.first(where: { SQL.foldedName($0.name) == SQL.foldedName(ttlColumn) }) else {
                        throw SQLiteArchiveError(.noColumn, "the TTL column \(SQL.identifier(ttlColumn)) is no longer a column of \(SQL.identifier(schema.name)); run `archiver sqlite init \(path) --table \(shellWord(schema.name)) --ttl-column <column>`")
                    }
                    guard try triggerExists(db, table: schema.name) else {
                        throw notInstalled(schema.name, path: path)
                    }
                    let tableArgument: StatementArguments = [schema.name]
                    try db.execute(sql: "UPDATE archiver_tables SET expiring_now_ms = ? WHERE table_name = ?", arguments: [nowMilliseconds, schema.name])
                    let ttl = SQL.identifier(column.name)
                    let bound: DatabaseValue = nowSeconds == nowSeconds.rounded() && abs(nowSeconds) < 9e15
                        ? Int64(nowSeconds).databaseValue : nowSeconds.databaseValue
                    try db.execute(
                        sql: "DELETE FROM \(SQL.identifier(schema.name)) WHERE typeof(\(ttl)) IN ('integer', 'real') AND \(ttl) < ?",
                        arguments: [bound])
                    let deleted = db.changesCount
                    try db.execute(sql: "UPDATE archiver_tables SET expiring_now_ms = NULL WHERE table_name = ?", arguments: tableArgument)
                    return deleted
                }
            }
        } catch {
            throw SQLiteDatabase.describe(error, path: path)
        }
    }

    // MARK: - Inside the transaction

    private static func install(_ db: Database, path: String, table: String, ttlColumn: String?) throws -> ChangeTableReport {
        let schema = try TableSchema.read(db, table: table, databasePath: path)
        guard !schema.keyColumns.isEmpty else {
            throw SQLiteArchiveError(.unsupportedTable, "\(SQL.identifier(schema.name)) has no primary key and its columns hide the rowid (they are named rowid, _rowid_ and oid); give the table a primary key")
        }
        var ttl: String?
        if let ttlColumn {
            guard let column = schema.columns.first(where: { SQL.foldedName($0.name) == SQL.foldedName(ttlColumn) }) else {
                throw SQLiteArchiveError(.noColumn, "\(SQL.identifier(schema.name)) has no column named \(SQL.identifier(ttlColumn)) (its columns: \(schema.columns.map { SQL.identifier($0.name) }.joined(separator: ", "))); check --ttl-column")
            }
            ttl = column.name
        }

        let changeTableCreated = try !db.tableExists(ChangeTableSchema.changesTable)
        try db.execute(sql: ChangeTableSchema.createTables)
        try ChangeTableSchema.checkTables(db, path: path)
        if let ttl {
            try db.execute(
                sql: """
                    INSERT INTO archiver_tables (table_name, ttl_column) VALUES (?, ?)
                    ON CONFLICT (table_name) DO UPDATE SET ttl_column = excluded.ttl_column
                    """,
                arguments: [schema.name, ttl])
        } else {
            try db.execute(sql: "INSERT OR IGNORE INTO archiver_tables (table_name) VALUES (?)", arguments: [schema.name])
        }
        let configuredTTL = try String.fetchOne(db, sql: "SELECT ttl_column FROM archiver_tables WHERE table_name = ?", arguments: [schema.name])

        // Every archiver trigger on the table (one left by a rename has another name) makes way for the current one.
        let wanted = ChangeTableSchema.createTrigger(for: schema)
        let name = ChangeTableSchema.triggerName(for: schema.name)
        let existing = try Row.fetchAll(db, sql: """
            SELECT name, sql FROM sqlite_master
            WHERE type = 'trigger' AND tbl_name = ? COLLATE NOCASE AND name LIKE 'archiver\\_%' ESCAPE '\\'
            """, arguments: [schema.name])
        let action: ChangeTableReport.TriggerAction
        if existing.count == 1, existing[0]["name"] == name, existing[0]["sql"] == wanted {
            action = .unchanged
        } else {
            for trigger in existing {
                let triggerName: String = trigger["name"]
                try db.execute(sql: "DROP TRIGGER \(SQL.identifier(triggerName))")
            }
            try db.execute(sql: wanted)
            action = existing.isEmpty ? .created : .updated
        }

        return ChangeTableReport(
            databasePath: path, table: schema.name, columns: schema.columns.map(\.name),
            keyColumns: schema.keyColumns, keyIsRowid: schema.keyIsRowid, ttlColumn: configuredTTL,
            changeTable: ChangeTableSchema.changesTable, changeTableCreated: changeTableCreated,
            trigger: name, triggerAction: action)
    }

    private static func configuredTTLColumn(_ db: Database, schema: TableSchema, path: String) throws -> String {
        guard try db.tableExists(ChangeTableSchema.tablesTable) else { throw notInstalled(schema.name, path: path) }
        let row = try Row.fetchOne(db, sql: "SELECT ttl_column FROM archiver_tables WHERE table_name = ?", arguments: [schema.name])
        guard let row else { throw notInstalled(schema.name, path: path) }
        guard let column: String = row["ttl_column"] else {
            throw SQLiteArchiveError(.notConfigured, "\(SQL.identifier(schema.name)) has no TTL column configured; run `archiver sqlite init \(path) --table \(shellWord(schema.name)) --ttl-column <column>` (the column holds each row's expiry in epoch seconds)")
        }
        return column
    }

    private static func triggerExists(_ db: Database, table: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'trigger' AND name = ?",
                          arguments: [ChangeTableSchema.triggerName(for: table)]) ?? false
    }

    private static func notInstalled(_ table: String, path: String) -> SQLiteArchiveError {
        SQLiteArchiveError(.notConfigured, "\(SQL.identifier(table)) in \(path) is not set up for archiving; run `archiver sqlite init \(path) --table \(shellWord(table)) --ttl-column <column>` first")
    }
}

/// What `ChangeTable.install` did.
public struct ChangeTableReport: Sendable, Equatable, Codable {
    /// What happened to the delete trigger.
    public enum TriggerAction: String, Sendable, Equatable, Codable {
        /// There was none; it was created.
        case created
        /// There was one for other columns (or another name); it was replaced.
        case updated
        /// It was already exactly right.
        case unchanged
    }

    /// The database, as an absolute path.
    public var databasePath: String
    /// The table, as the schema spells it.
    public var table: String
    /// The columns each record's OldImage holds, in table order.
    public var columns: [String]
    /// The record's Keys: the primary-key columns in key order, or `rowid` when the table declares no primary key.
    public var keyColumns: [String]
    /// True when the key is the rowid.
    public var keyIsRowid: Bool
    /// The column `expire` reads (epoch seconds), if configured.
    public var ttlColumn: String?
    /// The change table's name.
    public var changeTable: String
    /// True when this call created the change table.
    public var changeTableCreated: Bool
    /// The delete trigger's name.
    public var trigger: String
    /// What happened to the trigger.
    public var triggerAction: TriggerAction

    enum CodingKeys: String, CodingKey {
        case databasePath = "database_path", table, columns, keyColumns = "key_columns", keyIsRowid = "key_is_rowid"
        case ttlColumn = "ttl_column", changeTable = "change_table", changeTableCreated = "change_table_created"
        case trigger, triggerAction = "trigger_action"
    }
}

/// `name` written so a shell reads it as one word (for commands quoted in messages).
func shellWord(_ name: String) -> String {
    let plain = name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "_-.".unicodeScalars.contains($0) }
    return plain && !name.isEmpty ? name : "'" + name.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
