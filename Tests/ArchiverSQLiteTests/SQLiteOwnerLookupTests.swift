import ArchiverCore
import ArchiverSQLite
import Foundation
import GRDB
import Testing
import TestSupport

/// An application database with a `sessions` table keyed by a text column, as a cleanup owner table.
struct SQLiteOwnerFixture: OwnerLookupFixture {
    let folder = TemporaryFolder("sqlite-owners")
    var path: String { folder("app.sqlite") }

    init() throws {
        let queue = try SQLiteFixture.open(path)
        try queue.write { try $0.execute(sql: "CREATE TABLE sessions (id TEXT PRIMARY KEY, status TEXT)") }
    }

    func insert(_ ids: [String]) async throws {
        try await SQLiteFixture.open(path).write { db in
            for id in ids { try db.execute(sql: "INSERT INTO sessions (id, status) VALUES (?, 'created')", arguments: [id]) }
        }
    }

    func delete(_ id: String) async throws {
        try await SQLiteFixture.open(path).write { try $0.execute(sql: "DELETE FROM sessions WHERE id = ?", arguments: [id]) }
    }

    func lookup() async throws -> any OwnerLookup { SQLiteOwnerLookup(databasePath: path, table: "sessions", column: "id") }

    func missingTable() async throws -> (lookup: any OwnerLookup, name: String) {
        (SQLiteOwnerLookup(databasePath: path, table: "uploads_gone", column: "id"), "uploads_gone")
    }
}

@Suite("SQLite owner lookups")
struct SQLiteOwnerLookupTests {
    @Test(arguments: OwnerLookupConformance.Case.allCases)
    func conformsToTheOwnerLookupContract(_ contract: OwnerLookupConformance.Case) async throws {
        let fixture = try SQLiteOwnerFixture()
        defer { fixture.folder.remove() }
        try await OwnerLookupConformance.check(contract, fixture)
    }

    @Test func aMissingDatabaseOrColumnFailsEveryLookupNamingIt() async throws {
        let fixture = try SQLiteOwnerFixture()
        defer { fixture.folder.remove() }
        let noFile = SQLiteOwnerLookup(databasePath: fixture.folder("nothing.sqlite"), table: "sessions", column: "id")
        let missing = await #expect(throws: SQLiteArchiveError.self) { try await noFile.ownerExists("a") }
        #expect(missing?.kind == .noDatabase)
        #expect(FileManager.default.fileExists(atPath: fixture.folder("nothing.sqlite")) == false, "a lookup created the database")
        let noColumn = SQLiteOwnerLookup(databasePath: fixture.path, table: "sessions", column: "session_id")
        let column = await #expect(throws: SQLiteArchiveError.self) { try await noColumn.ownerExists("a") }
        #expect(column?.kind == .noColumn)
        #expect(column?.description.contains("\"session_id\"") == true && column?.description.contains("\"status\"") == true, "\(String(describing: column))")
    }

    /// A number column: a number id finds its row whatever its spelling; text is an error (the object is kept), never a "no".
    @Test func aNumberColumnTakesNumbersAndRefusesText() async throws {
        let folder = TemporaryFolder("sqlite-owners-int")
        defer { folder.remove() }
        try await SQLiteFixture.open(folder("app.sqlite")).write { db in
            try db.execute(sql: "CREATE TABLE files (id INTEGER PRIMARY KEY, owner_ref, name TEXT)")
            try db.execute(sql: "INSERT INTO files (id, owner_ref, name) VALUES (42, 7, 'a'), (43, 'x7', 'b')")
        }
        let byID = SQLiteOwnerLookup(databasePath: folder("app.sqlite"), table: "files", column: "id")
        #expect(try await byID.ownerExists("42"))
        #expect(try await byID.ownerExists("042"))
        #expect(try await byID.ownerExists("44") == false)
        let text = await #expect(throws: SQLiteArchiveError.self) { try await byID.ownerExists("forty-two") }
        #expect(text?.description.contains("not a number") == true)
        // A column without a declared type keeps 7 as an integer: the id "7" still finds it, and text finds text.
        let untyped = SQLiteOwnerLookup(databasePath: folder("app.sqlite"), table: "files", column: "owner_ref")
        #expect(try await untyped.ownerExists("7"))
        #expect(try await untyped.ownerExists("x7"))
        #expect(try await untyped.ownerExists("8") == false)
    }

    @Test func theDatabaseIsOpenedReadOnly() async throws {
        let fixture = try SQLiteOwnerFixture()
        defer { fixture.folder.remove() }
        try await fixture.insert(["a"])
        let before = try Data(contentsOf: URL(fileURLWithPath: fixture.path))
        let lookup = try await fixture.lookup()
        for id in ["a", "b", "c"] { _ = try await lookup.ownerExists(id) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: fixture.path)) == before)
        let wal = (try? Data(contentsOf: URL(fileURLWithPath: fixture.path + "-wal"))) ?? Data()
        #expect(wal.isEmpty, "lookups wrote to the database's log")
    }
}
