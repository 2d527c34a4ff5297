import ArchiverSQLite
import ArchiverCore
import Foundation
import GRDB
import Testing
import JSONToolkit

// Helpers shared by the SQLite tests, and the checks that the fixture database matches its SQL.

/// A temporary folder, removed when the value goes away.
final class SQLiteTempFolder {
    let path: String

    init() throws {
        var template = Array((FileManager.default.temporaryDirectory.path + "/archiver-sqlite-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        path = String(cString: made)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

enum SQLiteFixture {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures")
    static let database = folder.appendingPathComponent("app.sqlite").path
    static let sql = folder.appendingPathComponent("app.sql").path

    /// A copy of fixtures/app.sqlite in `folder`, in WAL mode when asked.
    static func copy(into folder: SQLiteTempFolder, name: String = "app.sqlite", wal: Bool = false) throws -> String {
        let path = folder.file(name)
        try FileManager.default.copyItem(atPath: database, toPath: path)
        if wal {
            let queue = try DatabaseQueue(path: path)
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = WAL") }
        }
        return path
    }

    /// Opens a database for the test's own statements (as the application would).
    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}

/// A value with its storage class, for comparing rows exactly (REALs by bits, TEXT by bytes).
struct SQLiteStoredCell: Equatable, CustomStringConvertible {
    var type: String
    var value: DatabaseValue

    var description: String { "\(type):\(value)" }

    static func == (a: SQLiteStoredCell, b: SQLiteStoredCell) -> Bool {
        guard a.type == b.type else { return false }
        switch (a.value.storage, b.value.storage) {
        case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern
        default: return a.value == b.value
        }
    }
}

/// One record the source yielded, with what the scanner read from it.
struct SQLiteSourcedRecord {
    var bytes: [UInt8]
    var scanned: ScannedRecord
    var position: String
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var json: JSONValue { try! JSONValue.parse(bytes) }

    /// `dynamodb.ApproximateCreationDateTime` as written (read from the JSON: the scanner on this branch's
    /// base misses the field; main's scanner reads it).
    var eventTime: EventTime? {
        guard case .number(let text) = json["dynamodb"]?["ApproximateCreationDateTime"] else { return nil }
        return .epochSeconds(text)
    }

    /// `dynamodb.Keys`, read from the JSON (in the order the record lists them).
    var keys: [KeyAttribute] {
        guard let members = json["dynamodb"]?["Keys"]?.objectMembers else { return [] }
        return members.compactMap { name, value in
            guard let (tag, text) = value.objectMembers?.first, let type = KeyType(rawValue: tag), let text = text.stringValue else { return nil }
            return KeyAttribute(name: name, type: type, value: text)
        }
    }

    /// The record's OldImage as an item.
    var oldImage: Item { try! Item(dynamoJSON: json["dynamodb"]!["OldImage"]!) }

    /// The item as `archiver restore` hands it to a target: OldImage plus any key attribute it lacks.
    var restoreItem: RestoreItem {
        var item = oldImage
        for key in keys where item[key.name] == nil {
            let value: AttributeValue = switch key.type {
            case .string: .s(key.value)
            case .number: .n(key.value)
            case .binary: .b(Array(Data(base64Encoded: key.value)!))
            }
            item.attributes.append((key.name, value))
        }
        return RestoreItem(archiveKey: "test/\(scanned.sequenceNumber ?? "")", keys: keys, item: item)
    }
}

extension SQLiteFixture {
    /// Every row of `table` as cells, ordered by `orderBy`; text is read as bytes.
    static func storedRows(_ db: Database, table: String, orderBy: String) throws -> [[String: SQLiteStoredCell]] {
        let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
        let select = columns.map { c -> String in
            let q = "\"" + c.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            return "typeof(\(q)), CASE WHEN typeof(\(q)) = 'text' THEN CAST(\(q) AS BLOB) ELSE \(q) END"
        }.joined(separator: ", ")
        let quotedTable = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        return try Row.fetchAll(db, sql: "SELECT \(select) FROM \(quotedTable) ORDER BY \(orderBy)").map { row in
            var cells: [String: SQLiteStoredCell] = [:]
            for (i, column) in columns.enumerated() {
                cells[column] = SQLiteStoredCell(type: row[2 * i], value: row[2 * i + 1])
            }
            return cells
        }
    }

    /// Everything the source has after `checkpoint`, and the checkpoint after it.
    static func readRecords(_ source: SQLiteChangeSource, after checkpoint: String? = nil) async throws -> (records: [SQLiteSourcedRecord], checkpoint: String?, batches: Int) {
        var records: [SQLiteSourcedRecord] = []
        var last = checkpoint
        var batches = 0
        for try await batch in source.batches(after: checkpoint.map { ["": $0] } ?? [:], follow: false, stop: StopSignal()) {
            batches += 1
            #expect(batch.partition == "")
            for (i, range) in batch.records.enumerated() {
                let bytes = Array(batch.buffer[range])
                let record = SQLiteSourcedRecord(bytes: bytes, scanned: try RecordScanner().scan(bytes), position: batch.position(of: i))
                // Whatever the pipeline's scanner picks out agrees with the JSON itself.
                #expect(record.scanned.eventID == record.json["eventID"]?.stringValue)
                #expect(record.scanned.sequenceNumber == record.json["dynamodb"]?["SequenceNumber"]?.stringValue)
                if record.scanned.hasKeys { #expect(record.scanned.keys == record.keys) }
                if record.scanned.eventTime != nil { #expect(record.scanned.eventTime == record.eventTime) }
                if let range = record.scanned.oldImageRange {
                    #expect(try Item(dynamoJSON: JSONValue.parse(Array(bytes[range]))) == record.oldImage)
                }
                records.append(record)
            }
            last = batch.checkpoint
        }
        return (records, last, batches)
    }

    /// The error `body` throws, as text ("" when it does not throw).
    static func errorMessage(_ body: () throws -> Any) -> String {
        do {
            _ = try body()
            Issue.record("expected an error")
            return ""
        } catch {
            return "\(error)"
        }
    }

    /// The kind of SQLiteArchiveError `body` throws.
    static func errorKind(_ body: () throws -> Any) -> SQLiteArchiveError.Kind? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? SQLiteArchiveError)?.kind
        }
    }

    /// Waits (up to 180 s: a loaded machine can be slow; the wait ends as soon as it holds) for `condition`.
    static func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(180)
        while !condition() {
            guard Date() < deadline else {
                Issue.record("timed out waiting")
                return
            }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
    }
}

@Suite struct SQLiteFixtureTests {
    @Test func fixtureDatabaseHoldsWhatItsSQLMakes() throws {
        let folder = try SQLiteTempFolder()
        let fromSQL = try SQLiteFixture.open(folder.file("from-sql.sqlite"))
        try fromSQL.writeWithoutTransaction { db in try db.execute(sql: String(contentsOfFile: SQLiteFixture.sql, encoding: .utf8)) }
        let committed = try SQLiteFixture.open(SQLiteFixture.database)
        for (table, order) in [("users", "id"), ("order lines", "\"order id\", \"line #\"")] {
            let expected = try fromSQL.read { try SQLiteFixture.storedRows($0, table: table, orderBy: order) }
            let actual = try committed.readNow { try SQLiteFixture.storedRows($0, table: table, orderBy: order) }
            #expect(actual == expected, "fixtures/app.sqlite differs from fixtures/app.sql in \(table); rebuild it: sqlite3 fixtures/app.sqlite < fixtures/app.sql")
        }
        let users = try committed.readNow { try SQLiteFixture.storedRows($0, table: "users", orderBy: "id") }
        #expect(users.count == 40)
        let types = Set(users.flatMap { $0.values.map(\.type) })
        #expect(types == ["integer", "real", "text", "blob", "null"])
        let archiverTables = try committed.readNow { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE name LIKE 'archiver%'") }
        #expect(archiverTables.isEmpty, "the fixture is the application's database before `archiver sqlite init`")
    }
}

extension DatabaseQueue {
    /// Reads synchronously (in async tests, `read` means GRDB's async overload).
    func readNow<T>(_ body: (Database) throws -> T) throws -> T { try read(body) }
    /// Writes synchronously, in a transaction, as the application would.
    func writeNow<T>(_ body: (Database) throws -> T) throws -> T { try write(body) }
}
