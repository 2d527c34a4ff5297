import ArchiverCore
import Foundation
import GRDB

/// Owner lookups in a table of an application's SQLite database (`sqlite:<db>#<table>#<column>`), opened read-only.
///
/// `SELECT 1 … WHERE <column> = ? LIMIT 1`, the id bound as the column's affinity wants it: as text for a text column
/// (so `0123` never equals `123`); as a number for a column declared as a number (INTEGER, REAL, NUMERIC affinity),
/// where an id that is not a number is an error, not a "no" (a key pattern that finds the wrong text must keep
/// objects, not delete them all); as text or number for a column declared without a type, which keeps `123` as an
/// integer that the text '123' would not equal. The database, the table and the column
/// are checked at the first lookup; when they cannot be used, every lookup fails (and every object is kept).
public final class SQLiteOwnerLookup: OwnerLookup, @unchecked Sendable {
    public let databasePath: String
    public let table: String
    public let column: String
    private let lock = NSLock()
    private var opened: Result<Opened, any Error>?

    private struct Opened {
        let queue: DatabaseQueue
        let sql: String
        let affinity: Affinity
    }

    /// How a column compares the values bound to it.
    enum Affinity: Equatable {
        case text, numeric, none
    }

    public init(databasePath: String, table: String, column: String) {
        self.databasePath = SQLiteDatabase.absolutePath(databasePath)
        self.table = table
        self.column = column
    }

    public var description: String { "sqlite:\(databasePath)#\(table)#\(column)" }

    public func ownerExists(_ id: String) async throws -> Bool {
        let opened = try open()
        let number = Self.number(id)
        let arguments: StatementArguments
        switch opened.affinity {
        case .text:
            arguments = [id, id]
        case .numeric:
            guard let number else {
                throw SQLiteArchiveError(
                    .noColumn,
                    "the id '\(id)' is not a number, and the column \(SQL.identifier(column)) of \(SQL.identifier(table)) holds numbers; check the key pattern (the object is kept)")
            }
            arguments = [number, number]
        case .none:
            arguments = [id, number ?? id.databaseValue]
        }
        do {
            return try await opened.queue.read { db in
                try Int.fetchOne(db, sql: opened.sql, arguments: arguments) != nil
            }
        } catch {
            throw SQLiteDatabase.describe(error, path: databasePath)
        }
    }

    /// Opens the database and checks the table and column, once; a failure is kept and thrown by every lookup.
    private func open() throws -> Opened {
        try lock.withLock {
            if let opened { return try opened.get() }
            let result = Result { () throws -> Opened in
                let queue = try SQLiteDatabase.open(databasePath, readonly: true)
                return try queue.read { db -> Opened in
                    let schema = try TableSchema.read(db, table: table, databasePath: databasePath)
                    guard let found = schema.columns.first(where: { SQL.foldedName($0.name) == SQL.foldedName(column) }) else {
                        throw SQLiteArchiveError(
                            .noColumn,
                            "\(SQL.identifier(schema.name)) in \(databasePath) has no column named \(SQL.identifier(column)) (its columns: \(schema.columns.map { SQL.identifier($0.name) }.joined(separator: ", ")))")
                    }
                    let declared = try String.fetchOne(
                        db, sql: "SELECT type FROM pragma_table_xinfo(?) WHERE name = ?", arguments: [schema.name, found.name]) ?? ""
                    let sql = "SELECT 1 FROM \(SQL.identifier(schema.name)) WHERE \(SQL.identifier(found.name)) = ? OR \(SQL.identifier(found.name)) = ? LIMIT 1"
                    return Opened(queue: queue, sql: sql, affinity: Self.affinity(declared))
                }
            }.mapError { error in SQLiteDatabase.describe(error, path: databasePath) }
            opened = result
            return try result.get()
        }
    }

    /// The id as an integer or a real when it reads as one.
    static func number(_ id: String) -> DatabaseValue? {
        if let integer = Int64(id) { return integer.databaseValue }
        if id.range(of: #"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"#, options: .regularExpression) != nil,
            let real = Double(id), real.isFinite
        {
            return real.databaseValue
        }
        return nil
    }

    /// SQLite's affinity rules (section 3.1 of "Datatypes In SQLite"), in their order.
    static func affinity(_ declared: String) -> Affinity {
        let type = declared.uppercased()
        if type.contains("INT") { return .numeric }
        if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") { return .text }
        if type.contains("BLOB") || type.isEmpty { return .none }
        return .numeric  // REAL, FLOA, DOUB, and NUMERIC for anything else
    }
}
