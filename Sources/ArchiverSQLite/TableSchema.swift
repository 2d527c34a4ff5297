import ArchiverCore
import GRDB

/// What archiver needs to know about an application table: its ordinary columns and its key.
struct TableSchema: Sendable {
    /// One stored column (generated and hidden columns are left out: they cannot be inserted).
    struct Column: Sendable {
        var name: String
        /// The SQL text of the column's DEFAULT, when it has one.
        var defaultSQL: String?
        /// 1-based position in the primary key; 0 when not part of it.
        var primaryKeyIndex: Int
    }

    /// The table's name as the schema spells it.
    var name: String
    /// Stored columns, in table order.
    var columns: [Column]
    /// The primary-key columns, in key order; empty when the table has no declared primary key.
    var primaryKey: [String]
    /// The name the rowid answers to (`rowid`, `_rowid_` or `oid`, whichever no column hides);
    /// nil for a WITHOUT ROWID table or when columns hide all three.
    var rowidName: String?

    /// The key records carry: the primary key, or the rowid when the table declares none.
    var keyColumns: [String] { primaryKey.isEmpty ? rowidName.map { [$0] } ?? [] : primaryKey }

    /// True when the key is the rowid (the table declares no primary key).
    var keyIsRowid: Bool { primaryKey.isEmpty }

    /// Names archiver uses for its own tables and triggers; application tables never start with it.
    static let reservedPrefix = "archiver_"

    /// Reads `table` (matched as SQLite matches names, ignoring ASCII case).
    /// - Throws: `SQLiteArchiveError` `.noTable` naming the tables there are, when there is no such table.
    static func read(_ db: Database, table: String, databasePath: String) throws -> TableSchema {
        let found = try Row.fetchOne(
            db, sql: "SELECT type, name, sql FROM sqlite_master WHERE name = ? COLLATE NOCASE AND type IN ('table', 'view')",
            arguments: [table])
        guard let found else {
            let tables = try applicationTables(db)
            let known = tables.isEmpty ? "it has no tables" : "its tables: " + tables.map { SQL.identifier($0) }.joined(separator: ", ")
            throw SQLiteArchiveError(.noTable, "\(databasePath) has no table named \(SQL.identifier(table)) (\(known)); check --table")
        }
        let name: String = found["name"]
        let type: String = found["type"]
        let sql: String = found["sql"] ?? ""
        if type == "view" {
            throw SQLiteArchiveError(.noTable, "\(SQL.identifier(name)) in \(databasePath) is a view; name the table whose rows are deleted")
        }
        if sql.uppercased().hasPrefix("CREATE VIRTUAL TABLE") {
            throw SQLiteArchiveError(.noTable, "\(SQL.identifier(name)) in \(databasePath) is a virtual table; SQLite cannot watch its deletions with a trigger")
        }
        if name.lowercased().hasPrefix("sqlite_") || name.lowercased().hasPrefix(reservedPrefix) {
            throw SQLiteArchiveError(.noTable, "\(SQL.identifier(name)) is an internal table of SQLite or archiver; name an application table")
        }

        var columns: [Column] = []
        for row in try Row.fetchAll(db, sql: "SELECT name, dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid", arguments: [name]) {
            let hidden: Int = row["hidden"]
            guard hidden == 0 else { continue }
            columns.append(Column(name: row["name"], defaultSQL: row["dflt_value"], primaryKeyIndex: row["pk"]))
        }
        let primaryKey = columns.filter { $0.primaryKeyIndex > 0 }.sorted { $0.primaryKeyIndex < $1.primaryKeyIndex }.map(\.name)

        let folded = Set(columns.map { SQL.foldedName($0.name) })
        var rowidName: String?
        for alias in ["rowid", "_rowid_", "oid"] where !folded.contains(alias) {
            // A WITHOUT ROWID table has no rowid: selecting it fails.
            if (try? db.makeStatement(sql: "SELECT \(alias) FROM \(SQL.identifier(name)) LIMIT 0")) != nil { rowidName = alias }
            break
        }
        return TableSchema(name: name, columns: columns, primaryKey: primaryKey, rowidName: rowidName)
    }

    /// The application's tables (not SQLite's, not archiver's), by name.
    static func applicationTables(_ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master
            WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'archiver\\_%' ESCAPE '\\'
            ORDER BY name
            """)
    }
}
