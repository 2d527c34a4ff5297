import ArchiverCore
import GRDB

/// The SQL of archiver's tables and triggers inside an application database
/// (documented for people in docs/sqlite-change-table.md).
enum ChangeTableSchema {
    /// One row per deleted row, in deletion order.
    static let changesTable = "archiver_changes"
    /// The deleted rows' values, one row per column, stored exactly as they were (storage class and all).
    static let valuesTable = "archiver_change_values"
    /// One row per watched table: its TTL column, and the flag `expire` raises while it deletes.
    static let tablesTable = "archiver_tables"

    /// The prefix of the delete triggers: `archiver_delete_<table>`.
    static let triggerPrefix = "archiver_delete_"

    /// Creates archiver's tables when they are missing; never touches rows that are there.
    static let createTables = """
        CREATE TABLE IF NOT EXISTS archiver_changes (
            seq           INTEGER PRIMARY KEY AUTOINCREMENT,
            table_name    TEXT    NOT NULL,
            event_name    TEXT    NOT NULL DEFAULT 'REMOVE',
            kind          TEXT    NOT NULL CHECK (kind IN ('manual', 'ttl')),
            event_time_ms INTEGER NOT NULL,
            columns       TEXT    NOT NULL,
            key_columns   TEXT    NOT NULL
        );
        CREATE TABLE IF NOT EXISTS archiver_change_values (
            seq   INTEGER NOT NULL,
            ord   INTEGER NOT NULL,
            value,
            PRIMARY KEY (seq, ord)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS archiver_tables (
            table_name      TEXT PRIMARY KEY,
            ttl_column      TEXT,
            expiring_now_ms INTEGER
        );
        """

    /// The columns each of archiver's tables must have (the triggers and the source use them all).
    static let requiredColumns: [(table: String, columns: [String])] = [
        (changesTable, ["seq", "table_name", "event_name", "kind", "event_time_ms", "columns", "key_columns"]),
        (valuesTable, ["seq", "ord", "value"]),
        (tablesTable, ["table_name", "ttl_column", "expiring_now_ms"]),
    ]

    /// Checks that archiver's tables, if some were there already, have the columns this version writes;
    /// a trigger writing into a table without them would make the application's deletes fail.
    static func checkTables(_ db: Database, path: String) throws {
        for (table, columns) in requiredColumns {
            let present = Set(try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]))
            let missing = columns.filter { !present.contains($0) }
            if !missing.isEmpty {
                throw SQLiteArchiveError(.unsupportedTable, "\(path) has a table \(table) without the columns \(missing.joined(separator: ", ")); it was not made by this version of archiver. Rename or drop it (after archiving what it holds), then run init again")
            }
        }
    }

    /// The trigger's name for `table`.
    static func triggerName(for table: String) -> String { triggerPrefix + table }

    /// Epoch milliseconds from SQLite's clock (`'now'` has millisecond precision and is the same for every
    /// row one statement deletes).
    static let sqliteNowMilliseconds = "CAST(round((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)"

    /// The AFTER DELETE trigger that records every row deleted from `schema`'s table.
    ///
    /// It writes one `archiver_changes` row (table, kind, time, column names, key names) and one
    /// `archiver_change_values` row per column holding `OLD.column` itself, so SQLite keeps each value's
    /// storage class and exact bits: a REAL stays the same double, a BLOB stays bytes.
    /// When the table's `archiver_tables.expiring_now_ms` is set (only inside `expire`'s transaction),
    /// the deletion is a TTL expiry at that time; otherwise a manual delete at SQLite's clock.
    static func createTrigger(for schema: TableSchema) -> String {
        let table = SQL.literal(schema.name)
        let columnNames = schema.columns.map(\.name)
        var values = schema.columns.enumerated().map { ord, column in
            "(last_insert_rowid(), \(ord), OLD.\(SQL.identifier(column.name)))"
        }
        if schema.keyIsRowid, let rowid = schema.rowidName {
            values.append("(last_insert_rowid(), -1, OLD.\(rowid))")
        }
        return """
            CREATE TRIGGER \(SQL.identifier(triggerName(for: schema.name))) AFTER DELETE ON \(SQL.identifier(schema.name)) FOR EACH ROW
            BEGIN
                INSERT INTO archiver_changes (table_name, kind, event_time_ms, columns, key_columns)
                SELECT \(table),
                       CASE WHEN t.expiring_now_ms IS NULL THEN 'manual' ELSE 'ttl' END,
                       coalesce(t.expiring_now_ms, \(sqliteNowMilliseconds)),
                       \(SQL.literal(SQL.jsonArray(columnNames))),
                       \(SQL.literal(SQL.jsonArray(schema.keyColumns)))
                FROM (SELECT 1) LEFT JOIN archiver_tables AS t ON t.table_name = \(table);
                INSERT INTO archiver_change_values (seq, ord, value) VALUES
                    \(values.joined(separator: ",\n        "));
            END
            """
    }
}
