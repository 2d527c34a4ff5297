import ArchiverCore
import ArchiverSQLite
import Foundation
import GRDB
import Testing
import TestSupport

/// The table the conformance items live in: keyed by PK and SK, a column for each of their attributes.
private let itemsTableSQL = """
    CREATE TABLE items (PK TEXT NOT NULL, SK INTEGER NOT NULL, note TEXT, count INTEGER, blob BLOB, absent, PRIMARY KEY (PK, SK))
    """

/// Item `n`'s values as the application would write them.
private func row(_ item: Item) throws -> StatementArguments {
    func value(_ name: String) throws -> (any DatabaseValueConvertible)? {
        switch item[name] {
        case .s(let s): return s
        case .n(let n): return Int64(n)
        case .b(let b): return Data(b)
        case .null, nil: return nil
        default: throw ConformanceFailure("no column type for \(name)")
        }
    }
    return StatementArguments(try ["PK", "SK", "note", "count", "blob", "absent"].map(value))
}

private func makeItemsDatabase(_ path: String) throws -> DatabaseQueue {
    let queue = try SQLiteFixture.open(path)
    try queue.write { try $0.execute(sql: itemsTableSQL) }
    return queue
}

/// An application database whose `items` table has archiver's change table: deleting rows records them.
struct SQLiteSourceFixture: ChangeSourceFixture {
    let folder = TemporaryFolder("sqlite-contract")
    var path: String { folder("app.sqlite") }

    init() throws {
        for name in ["app.sqlite", "other.sqlite"] {
            _ = try makeItemsDatabase(folder(name))
            _ = try ChangeTable.install(databasePath: folder(name), table: "items")
        }
    }

    func remove() { folder.remove() }

    func delete(_ numbers: Range<Int>) async throws {
        let queue = try SQLiteFixture.open(path)
        try await queue.write { db in
            for n in numbers {
                try db.execute(sql: "INSERT INTO items (PK, SK, note, count, blob, absent) VALUES (?, ?, ?, ?, ?, ?)", arguments: try row(ConformanceItems.item(n)))
            }
        }
        // One statement a deletion, as an application deletes them.
        for n in numbers {
            try await queue.write { try $0.execute(sql: "DELETE FROM items WHERE PK = ? AND SK = ?", arguments: ["ITEM#\(n)", n]) }
        }
    }

    func source() async throws -> any ChangeSource { try SQLiteChangeSource(databasePath: path, batchSize: 3, pollInterval: 0.02) }

    func otherSource() async throws -> any ChangeSource { try SQLiteChangeSource(databasePath: folder("other.sqlite")) }

    /// A change table holds rows; the source composes each record from one.
    func recordsInFeed() async throws -> [[UInt8]]? { nil }
}

/// A table of an application database that items are restored into.
struct SQLiteTargetFixture: RestoreTargetFixture {
    let folder = TemporaryFolder("sqlite-contract")
    var path: String { folder("app.sqlite") }

    init() throws {
        _ = try makeItemsDatabase(folder("app.sqlite"))
    }

    func remove() { folder.remove() }

    func target() async throws -> any RestoreTarget { try SQLiteRestoreTarget(databasePath: path, table: "items") }

    func stored(_ n: Int) async throws -> Item? {
        try await SQLiteFixture.open(path).read { db in
            let names = ["PK", "SK", "note", "count", "blob", "absent"]
            let sql = "SELECT " + names.map { "typeof(\($0)), \($0)" }.joined(separator: ", ") + " FROM items WHERE PK = ? AND SK = ?"
            guard let found = try Row.fetchOne(db, sql: sql, arguments: ["ITEM#\(n)", n]) else { return nil }
            return Item(names.enumerated().map { index, name in
                let value: AttributeValue
                switch found[index * 2] as String {
                case "text": value = .s(found[index * 2 + 1])
                case "integer": value = .n(String(found[index * 2 + 1] as Int64))
                case "blob": value = .b([UInt8](found[index * 2 + 1] as Data))
                case "null": value = .null
                case let other: value = .s("<\(other)>")
                }
                return (name, value)
            })
        }
    }

    func count() async throws -> Int {
        try await SQLiteFixture.open(path).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM items") ?? 0 }
    }

    func put(_ item: Item) async throws {
        try await SQLiteFixture.open(path).write { db in
            try db.execute(sql: "INSERT INTO items (PK, SK, note, count, blob, absent) VALUES (?, ?, ?, ?, ?, ?)", arguments: try row(item))
        }
    }

    /// A target whose table was dropped after it was made.
    func unusableTarget() async throws -> (target: any RestoreTarget, name: String) {
        let other = folder("gone.sqlite")
        let queue = try SQLiteFixture.open(other)
        try await queue.write { try $0.execute(sql: "CREATE TABLE vanished (id INTEGER PRIMARY KEY)") }
        let target = try SQLiteRestoreTarget(databasePath: other, table: "vanished")
        try await queue.write { try $0.execute(sql: "DROP TABLE vanished") }
        return (target, "vanished")
    }

    var locationNames: String { "items" }
}

@Suite("SQLite change table source: the ChangeSource contract")
struct SQLiteChangeSourceContractTests {
    /// A change table holds rows, not record bytes: "a replayed record has the same bytes" is its byte contract.
    @Test(arguments: ChangeSourceConformance.Case.allCases.filter { $0 != .bytesAreTheFeeds })
    func contract(_ contract: ChangeSourceConformance.Case) async throws {
        let fixture = try SQLiteSourceFixture()
        defer { fixture.remove() }
        try await ChangeSourceConformance.check(contract, fixture)
    }
}

@Suite("SQLite restore target: the RestoreTarget contract")
struct SQLiteRestoreTargetContractTests {
    @Test(arguments: RestoreTargetConformance.Case.allCases)
    func contract(_ contract: RestoreTargetConformance.Case) async throws {
        let fixture = try SQLiteTargetFixture()
        defer { fixture.remove() }
        try await RestoreTargetConformance.check(contract, fixture)
    }
}
