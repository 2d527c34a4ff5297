import ArchiverSQLite
import ArchiverCore
import Foundation
import GRDB
import Testing

@Suite struct SQLiteRestoreTargetTests {
    /// Deletes every row of `table`, reads the records the source makes, and returns them as restore items.
    private func deleteAndArchive(_ db: String, table: String) async throws -> [RestoreItem] {
        _ = try ChangeTable.install(databasePath: db, table: table)
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "DELETE FROM \"\(table)\"") }
        return try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records
            .filter { $0.json["eventSourceARN"] == .string("arn:archiver:sqlite:local::table/" + table) }
            .map(\.restoreItem)
    }

    @Test func roundTripRestoresEveryRowWithItsValuesAndTypes() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        let original = try SQLiteFixture.open(SQLiteFixture.database)
        let app = try SQLiteFixture.open(db)
        // Text with NUL characters must come back whole too.
        try app.writeNow { try $0.execute(sql: "UPDATE users SET extra = 'a' || char(0) || 'b' WHERE id = 40") }
        var expectedUsers = try app.readNow { try SQLiteFixture.storedRows($0, table: "users", orderBy: "id") }
        let expectedLines = try original.readNow { try SQLiteFixture.storedRows($0, table: "order lines", orderBy: "\"order id\", \"line #\"") }

        let users = try await deleteAndArchive(db, table: "users")
        #expect(users.count == 40)
        #expect(try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM users") } == 0)

        let target = try SQLiteRestoreTarget(databasePath: db, table: "users")
        #expect(target.location == "sqlite:\(db)#users")
        let outcomes = try await target.restore(users, overwrite: false, dryRun: false)
        #expect(outcomes == Array(repeating: .restored, count: 40))
        let restored = try app.readNow { try SQLiteFixture.storedRows($0, table: "users", orderBy: "id") }
        #expect(restored.count == expectedUsers.count)
        for (got, want) in zip(restored, expectedUsers) {
            #expect(got == want, "row \(want["id"]!)")
        }
        expectedUsers.removeAll()

        let lines = try await deleteAndArchive(db, table: "order lines")
        let linesTarget = try SQLiteRestoreTarget(databasePath: db, table: "order lines")
        #expect(try await linesTarget.restore(lines, overwrite: false, dryRun: false) == Array(repeating: .restored, count: 6))
        #expect(try app.readNow { try SQLiteFixture.storedRows($0, table: "order lines", orderBy: "\"order id\", \"line #\"") } == expectedLines)
    }

    @Test func refusesExistingRowsUnlessOverwriting() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        _ = try ChangeTable.install(databasePath: db, table: "users")
        let app = try SQLiteFixture.open(db)
        let archivedRow = try app.readNow { try SQLiteFixture.storedRows($0, table: "users", orderBy: "id") }[6]
        try app.writeNow { try $0.execute(sql: "DELETE FROM users WHERE id IN (7, 8)") }
        let items = try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records.map(\.restoreItem)
        // Row 7 comes back (changed) before the restore; row 8 stays gone.
        try app.writeNow { try $0.execute(sql: "INSERT INTO users (id, email, name) VALUES (7, 'big@example.com', 'Someone else')") }
        let target = try SQLiteRestoreTarget(databasePath: db, table: "users")

        let refused = try await target.restore(items, overwrite: false, dryRun: false)
        #expect(refused == [.exists("users row id=7 exists; pass --overwrite to replace it"), .restored])
        #expect(try app.readNow { try String.fetchOne($0, sql: "SELECT name FROM users WHERE id = 7") } == "Someone else")

        let replaced = try await target.restore(items, overwrite: true, dryRun: false)
        #expect(replaced == [.restored, .restored])
        let row = try app.readNow { try SQLiteFixture.storedRows($0, table: "users", orderBy: "id") }.first { $0["id"]!.value == 7.databaseValue }
        #expect(row == archivedRow)
        // Overwriting is an update in place: the delete trigger does not fire.
        #expect(try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM archiver_changes") } == 2)
    }

    @Test func dryRunChangesNothing() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        let items = try await deleteAndArchive(db, table: "users")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "INSERT INTO users (id, email) VALUES (3, 'taken@example.com')") }
        let target = try SQLiteRestoreTarget(databasePath: db, table: "users")

        let outcomes = try await target.restore(Array(items.prefix(4)), overwrite: false, dryRun: true)
        #expect(outcomes == [.restored, .restored, .exists("users row id=3 exists; pass --overwrite to replace it"), .restored])
        #expect(try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM users") } == 1)
        // A dry run checks constraints for real: this one would break the UNIQUE email.
        try app.writeNow { try $0.execute(sql: "UPDATE users SET email = 'smile@example.com' WHERE id = 3") }
        let clash = try await target.restore([items[3]], overwrite: false, dryRun: true)
        guard case .failed(let why) = clash.first else {
            Issue.record("expected a failure, got \(clash)")
            return
        }
        #expect(why.contains("UNIQUE constraint failed"))
        #expect(why.hasPrefix("users row id=4: "))
        #expect(try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM users") } == 1)
        #expect(try await target.restore(Array(items.prefix(2)), overwrite: true, dryRun: true) == [.restored, .restored])
        #expect(try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM users") } == 1)
    }

    @Test func attributesThatAreNotColumnsFailTheItemByName() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "DELETE FROM users") }
        let target = try SQLiteRestoreTarget(databasePath: db, table: "users")
        let item = RestoreItem(
            archiveKey: "k", keys: [KeyAttribute(name: "id", type: .number, value: "1")],
            item: Item([("id", .n("1")), ("email", .s("a@example.com")), ("nickname", .s("al")), ("age", .n("40"))]))
        let noKey = RestoreItem(archiveKey: "k", keys: [], item: Item([("email", .s("b@example.com"))]))
        let outcomes = try await target.restore([item, noKey], overwrite: false, dryRun: false)
        #expect(outcomes == [
            .failed("users row id=1: the table has no columns named \"nickname\", \"age\"; add them to the table or restore into another target (nothing was restored, so nothing is lost)"),
            .failed("users row (no key): the item has no value for the primary-key column \"id\""),
        ])
        #expect(try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM users") } == 0)
    }

    @Test func dynamoDBTypesBecomeSQLiteValues() async throws {
        let folder = try SQLiteTempFolder()
        let db = folder.file("types.sqlite")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "CREATE TABLE t (id TEXT PRIMARY KEY, v)") }
        let target = try SQLiteRestoreTarget(databasePath: db, table: "T")
        #expect(target.table == "t")
        let cases: [(AttributeValue, String, String)] = [
            (.s("héllo"), "text", "'héllo'"),
            (.n("42"), "integer", "42"),
            (.n("-9223372036854775808"), "integer", "-9223372036854775808"),
            (.n("9223372036854775808"), "text", "'9223372036854775808'"),
            (.n("12345678901234567890123456789012345678"), "text", "'12345678901234567890123456789012345678'"),
            (.n("0.10"), "real", "0.1"),
            (.n("2.5E+3"), "real", "2500.0"),
            (.n("3.14159265358979323846"), "text", "'3.14159265358979323846'"),
            (.n("1e999"), "real", "Inf"),
            (.b([0, 1, 255]), "blob", "X'0001FF'"),
            (.null, "null", "NULL"),
            (.bool(true), "integer", "1"),
            (.bool(false), "integer", "0"),
            (.ss(["a", "b"]), "text", "'{\"SS\":[\"a\",\"b\"]}'"),
            (.m([("k", .n("1"))]), "text", "'{\"M\":{\"k\":{\"N\":\"1\"}}}'"),
            (.l([.s("x"), .null]), "text", "'[{\"S\":\"x\"},{\"NULL\":true}]'".replacingOccurrences(of: "'[", with: "'{\"L\":[").replacingOccurrences(of: "]'", with: "]}'")),
        ]
        let items = cases.enumerated().map { i, c in
            RestoreItem(archiveKey: "k", keys: [KeyAttribute(name: "id", type: .string, value: "\(i)")], item: Item([("id", .s("\(i)")), ("v", c.0)]))
        }
        #expect(try await target.restore(items, overwrite: false, dryRun: false) == Array(repeating: .restored, count: cases.count))
        let stored = try app.readNow { db in
            try Row.fetchAll(db, sql: "SELECT typeof(v), CASE WHEN typeof(v) = 'real' AND abs(v) > 1e308 THEN 'Inf' ELSE quote(v) END FROM t ORDER BY CAST(id AS INTEGER)")
                .map { ($0[0] as String, $0[1] as String) }
        }
        for ((value, type, quoted), got) in zip(cases, stored) {
            #expect(got.0 == type, "\(value)")
            #expect(got.1 == quoted, "\(value)")
        }
    }

    @Test func errorsSayWhatToDo() throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        #expect(SQLiteFixture.errorMessage { try SQLiteRestoreTarget(databasePath: folder.file("nope.sqlite"), table: "users") }.contains("no SQLite database at"))
        #expect(SQLiteFixture.errorMessage { try SQLiteRestoreTarget(databasePath: db, table: "members") }.contains("has no table named \"members\""))
    }

    /// Measures the restore rate (printed, not asserted: it depends on the machine and the build).
    /// `swift test -c release --filter SQLiteRestoreTargetTests/restoreRate` for the release figure.
    @Test func restoreRate() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder, wal: true)
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "DELETE FROM users") }
        let count = 10_000
        let items = (1...count).map { i in
            RestoreItem(
                archiveKey: "k\(i)", keys: [KeyAttribute(name: "id", type: .number, value: "\(i)")],
                item: Item([
                    ("id", .n("\(i)")), ("email", .s("user\(i)@example.com")), ("name", .s("Zoë \(i)")),
                    ("balance", .n("\(Double(i) / 3)")), ("visits", .n("\(i * 7)")), ("avatar", .b([UInt8(i & 0xFF), 1, 2, 3])),
                    ("extra", .null), ("expires_at", .n("\(1_700_000_000 + i)")),
                ]))
        }
        let target = try SQLiteRestoreTarget(databasePath: db, table: "users")
        let start = DispatchTime.now().uptimeNanoseconds
        let outcomes = try await target.restore(items, overwrite: false, dryRun: false)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        #expect(outcomes.allSatisfy { $0 == .restored })
        #expect(try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM users") } == count)
        print("SQLiteRestoreTarget: \(count) items in \(String(format: "%.3f", seconds)) s = \(Int(Double(count) / seconds)) items/s")
    }
}
