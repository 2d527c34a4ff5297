import ArchiverCore
import Foundation
import GRDB
import JSONToolkit

/// Puts archived items back into a SQLite table as rows (`--to sqlite:<db>#<table>`), each value with its
/// original storage class:
///
/// | DynamoDB | SQLite |
/// |---|---|
/// | S | TEXT |
/// | N | INTEGER when an integer that fits 64 bits; REAL when it has a fraction or exponent and is exactly a double's shortest text; otherwise TEXT (e.g. 38 digits) |
/// | B | BLOB |
/// | NULL | NULL |
/// | BOOL | INTEGER 0 or 1 |
/// | M, L, SS, NS, BS | TEXT holding the value's DynamoDB JSON (`{"SS":["a","b"]}`) |
///
/// The table's column affinities and constraints apply as for any insert. Each call is one transaction
/// with prepared statements reused across items.
public struct SQLiteRestoreTarget: RestoreTarget {
    /// `sqlite:<absolute db path>#<table>`.
    public let location: String
    /// The database, as an absolute path.
    public let databasePath: String
    /// The table, as the schema spells it.
    public let table: String

    private let queue: DatabaseQueue

    /// Opens the database and checks that the table exists.
    /// - Throws: `SQLiteArchiveError` when there is no database at the path or no such table.
    public init(databasePath: String, table: String) throws {
        let path = SQLiteDatabase.absolutePath(databasePath)
        queue = try SQLiteDatabase.open(path, readonly: false)
        do {
            self.table = try queue.read { db in try TableSchema.read(db, table: table, databasePath: path).name }
        } catch {
            throw SQLiteDatabase.describe(error, path: path)
        }
        self.databasePath = path
        location = "sqlite:\(path)#\(self.table)"
    }

    /// Inserts each item as a row. An item whose key is in the table already is left alone (`.exists`)
    /// unless `overwrite`, which replaces that row's values in place (an UPDATE: no foreign-key cascade, no
    /// delete trigger; columns the item lacks get their default). An item naming attributes that are not
    /// columns fails, naming them: nothing is silently dropped. With `dryRun`, everything is done in a
    /// transaction that is rolled back, so constraints are checked for real and nothing changes.
    public func restore(_ items: [RestoreItem], overwrite: Bool, dryRun: Bool) async throws -> [RestoreOutcome] {
        let path = databasePath
        let table = table
        do {
            return try await queue.writeWithoutTransaction { db in
                var outcomes: [RestoreOutcome] = []
                try db.inTransaction(.immediate) {
                    let schema = try TableSchema.read(db, table: table, databasePath: path)
                    let writer = RowWriter(schema: schema, db: db)
                    outcomes.reserveCapacity(items.count)
                    for item in items {
                        outcomes.append(try writer.restore(item, overwrite: overwrite))
                    }
                    return dryRun ? .rollback : .commit
                }
                return outcomes
            }
        } catch let error as RestoreError {
            throw error
        } catch let error as SQLiteArchiveError {
            throw RestoreError.unusableTarget(error.description)
        } catch let error as DatabaseError {
            throw RestoreError.unusableTarget("\(path): \(error.message ?? "\(error.resultCode)"); nothing was restored")
        }
    }
}

/// Turns items into rows of one table, inside the caller's transaction. Statements are prepared once
/// per item shape (which columns it sets) and reused.
private final class RowWriter {
    let schema: TableSchema
    let db: Database
    /// Column index by exact name, and by name folded as SQLite folds it.
    private let exactIndex: [String: Int]
    private let foldedIndex: [String: Int]
    /// The rowid's names when the key is the rowid.
    private let rowidNames: Set<String>
    private let primaryKeyIndexes: [Int]
    private let quotedTable: String
    private var prepared: [Shape: Prepared] = [:]

    init(schema: TableSchema, db: Database) {
        self.schema = schema
        self.db = db
        var exact: [String: Int] = [:]
        var folded: [String: Int] = [:]
        for (i, column) in schema.columns.enumerated() {
            exact[column.name] = i
            folded[SQL.foldedName(column.name)] = i
        }
        exactIndex = exact
        foldedIndex = folded
        rowidNames = schema.keyIsRowid && schema.rowidName != nil ? Set(["rowid", "_rowid_", "oid"].filter { folded[$0] == nil }) : []
        primaryKeyIndexes = schema.primaryKey.map { folded[SQL.foldedName($0)]! }
        quotedTable = SQL.identifier(schema.name)
    }

    /// One item's row: the columns it sets (in item order) and their values.
    struct Row {
        var shape = Shape()
        var values: [DatabaseValue] = []
        var rowid: DatabaseValue?
    }

    /// Which columns an item sets, in its order, and how each is bound.
    struct Shape: Hashable {
        var columns: [Int] = []
        /// Text holding NUL is bound as bytes and cast back to TEXT (binding it as text would cut it at the NUL).
        var castToText: [Bool] = []
        var hasRowid = false
    }

    /// The statements for one shape.
    struct Prepared {
        /// Primary-key columns the shape lacks (it cannot be restored).
        var missingKey: [String]
        /// Where each key value sits among the row's values (the rowid: -1).
        var keyPositions: [Int]
        var exists: Statement?
        var insert: Statement?
        /// Made on first use.
        var update: Statement?
        var updateSQL: String?
    }

    func restore(_ item: RestoreItem, overwrite: Bool) throws -> RestoreOutcome {
        let row: Row
        switch makeRow(item.item) {
        case .success(let made): row = made
        case .failure(let problem): return .failed("\(schema.name) row \(describeKey(item.item)): \(problem.message)")
        }
        do {
            var statements = try statements(for: row.shape)
            if !statements.missingKey.isEmpty {
                let missing = statements.missingKey
                return .failed("\(schema.name) row \(describeKey(item.item)): the item has no value for the primary-key column\(missing.count == 1 ? "" : "s") \(missing.map(SQL.identifier).joined(separator: ", "))")
            }
            let keyValues = statements.keyPositions.map { $0 < 0 ? row.rowid! : row.values[$0] }
            var exists = false
            if let statement = statements.exists {
                exists = try Int.fetchOne(statement, arguments: StatementArguments(keyValues)) != nil
            }
            if exists {
                guard overwrite else {
                    return .exists("\(schema.name) row \(describeKey(item.item)) exists; pass --overwrite to replace it")
                }
                if statements.update == nil, let sql = statements.updateSQL {
                    statements.update = try db.makeStatement(sql: sql)
                    prepared[row.shape] = statements
                }
                if let update = statements.update {
                    try update.execute(arguments: StatementArguments(updateValues(row) + keyValues))
                }
            } else {
                var values = row.values
                if let rowid = row.rowid { values.append(rowid) }
                try statements.insert?.execute(arguments: StatementArguments(values))
            }
            return .restored
        } catch let error as DatabaseError {
            guard db.isInsideTransaction else { throw error }
            return .failed("\(schema.name) row \(describeKey(item.item)): \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// The statements for `shape`, prepared on first use.
    private func statements(for shape: Shape) throws -> Prepared {
        if let found = prepared[shape] { return found }
        let marks = shape.castToText.map(placeholder)

        var names = shape.columns.map { SQL.identifier(schema.columns[$0].name) }
        var insertMarks = marks
        if shape.hasRowid, let rowid = schema.rowidName {
            names.append(rowid)
            insertMarks.append("?")
        }
        let insertSQL = names.isEmpty
            ? "INSERT INTO \(quotedTable) DEFAULT VALUES"
            : "INSERT INTO \(quotedTable) (\(names.joined(separator: ", "))) VALUES (\(insertMarks.joined(separator: ", ")))"

        // The key: the primary-key columns' values, or the rowid. Without one there is nothing to check.
        var keyTerms: [String] = []
        var keyPositions: [Int] = []
        var missing: [String] = []
        if schema.keyIsRowid {
            if shape.hasRowid, let rowid = schema.rowidName {
                keyTerms.append("\(rowid) = ?")
                keyPositions.append(-1)
            }
        } else {
            for index in primaryKeyIndexes {
                guard let position = shape.columns.firstIndex(of: index) else {
                    missing.append(schema.columns[index].name)
                    continue
                }
                keyTerms.append("\(SQL.identifier(schema.columns[index].name)) IS \(marks[position])")
                keyPositions.append(position)
            }
        }
        guard missing.isEmpty else {
            let made = Prepared(missingKey: missing, keyPositions: [], exists: nil, insert: nil)
            prepared[shape] = made
            return made
        }
        let whereClause = keyTerms.joined(separator: " AND ")
        let exists = keyTerms.isEmpty ? nil : try db.makeStatement(sql: "SELECT 1 FROM \(quotedTable) WHERE \(whereClause) LIMIT 1")

        // Overwriting updates in place: the item's columns, and the default (or NULL) for the others.
        var assignments: [String] = []
        let keyIndexes = Set(primaryKeyIndexes)
        for (index, column) in schema.columns.enumerated() where !keyIndexes.contains(index) {
            if let position = shape.columns.firstIndex(of: index) {
                assignments.append("\(SQL.identifier(column.name)) = \(marks[position])")
            } else {
                assignments.append("\(SQL.identifier(column.name)) = \(column.defaultSQL.map { "(\($0))" } ?? "NULL")")
            }
        }
        // With every column in the key, the row is already as archived: nothing to update.
        let updateSQL = assignments.isEmpty || keyTerms.isEmpty
            ? nil : "UPDATE \(quotedTable) SET \(assignments.joined(separator: ", ")) WHERE \(whereClause)"

        let made = Prepared(
            missingKey: [], keyPositions: keyPositions, exists: exists, insert: try db.makeStatement(sql: insertSQL),
            update: nil, updateSQL: updateSQL)
        prepared[shape] = made
        return made
    }

    /// The values the UPDATE sets, in its order: the item's non-key columns in table order.
    private func updateValues(_ row: Row) -> [DatabaseValue] {
        let keyIndexes = Set(primaryKeyIndexes)
        var values: [DatabaseValue] = []
        for index in schema.columns.indices where !keyIndexes.contains(index) {
            if let position = row.shape.columns.firstIndex(of: index) { values.append(row.values[position]) }
        }
        return values
    }

    private func placeholder(_ castToText: Bool) -> String { castToText ? "CAST(? AS TEXT)" : "?" }

    struct Problem: Error { let message: String }

    private func makeRow(_ item: Item) -> Result<Row, Problem> {
        var row = Row()
        row.values.reserveCapacity(item.attributes.count)
        var unknown: [String] = []
        for (name, value) in item.attributes {
            if let index = exactIndex[name] ?? foldedIndex[SQL.foldedName(name)] {
                if row.shape.columns.contains(index) {
                    return .failure(Problem(message: "the item has two attributes for the column \(SQL.identifier(schema.columns[index].name)) (their names differ only in case)"))
                }
                let (stored, cast) = Self.sqliteValue(value)
                row.shape.columns.append(index)
                row.shape.castToText.append(cast)
                row.values.append(stored)
            } else if rowidNames.contains(SQL.foldedName(name)) {
                guard case .n(let text) = value, let rowid = Int64(text) else {
                    return .failure(Problem(message: "the rowid attribute \(name) is not an integer"))
                }
                row.rowid = rowid.databaseValue
                row.shape.hasRowid = true
            } else {
                unknown.append(name)
            }
        }
        if !unknown.isEmpty {
            let list = unknown.map(SQL.identifier).joined(separator: ", ")
            return .failure(Problem(message: "the table has no column\(unknown.count == 1 ? "" : "s") named \(list); add \(unknown.count == 1 ? "it" : "them") to the table or restore into another target (nothing was restored, so nothing is lost)"))
        }
        return .success(row)
    }

    /// The SQLite value for an attribute, and whether it must be bound as bytes and cast to TEXT.
    static func sqliteValue(_ value: AttributeValue) -> (DatabaseValue, Bool) {
        switch value {
        case .s(let s):
            if s.utf8.contains(0) { return (Data(s.utf8).databaseValue, true) }
            return (s.databaseValue, false)
        case .n(let n): return (SQLiteNumber.value(of: n), false)
        case .b(let b): return (Data(b).databaseValue, false)
        case .bool(let b): return ((b ? 1 : 0 as Int64).databaseValue, false)
        case .null: return (.null, false)
        case .m, .l, .ss, .ns, .bs: return (value.dynamoJSON.serialized.databaseValue, false)
        }
    }

    /// `id=7`, `"order id"=A-1, "line #"=2`, `rowid=5`: the item's key for messages.
    private func describeKey(_ item: Item) -> String {
        let names = schema.keyIsRowid ? ["rowid", "_rowid_", "oid"] : schema.primaryKey
        let parts = names.compactMap { name -> String? in
            guard let value = item.attributes.first(where: { SQL.foldedName($0.0) == SQL.foldedName(name) })?.1 else { return nil }
            let shown: String
            switch value {
            case .s(let s): shown = s
            case .n(let n): shown = n
            case .b(let b): shown = Data(b).base64EncodedString()
            default: shown = value.dynamoJSON.serialized
            }
            return "\(keyName(name))=\(shown)"
        }
        return parts.isEmpty ? "(no key)" : parts.joined(separator: ", ")
    }

    private func keyName(_ name: String) -> String {
        name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" } ? name : SQL.identifier(name)
    }
}
