import ArchiverSQLite
import ArchiverCore
import Foundation
import GRDB
import Testing

@Suite struct SQLiteChangeTableTests {
    @Test func installReportsTheTableAndIsIdempotent() throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)

        let first = try ChangeTable.install(databasePath: db, table: "users", ttlColumn: "expires_at")
        #expect(first.table == "users")
        #expect(first.keyColumns == ["id"])
        #expect(!first.keyIsRowid)
        #expect(first.columns == ["id", "email", "name", "balance", "visits", "avatar", "extra", "expires_at"])
        #expect(first.ttlColumn == "expires_at")
        #expect(first.changeTableCreated)
        #expect(first.triggerAction == .created)
        #expect(first.trigger == "archiver_delete_users")

        // Again, without --ttl-column: nothing changes and the TTL column is kept.
        let second = try ChangeTable.install(databasePath: db, table: "USERS")
        #expect(!second.changeTableCreated)
        #expect(second.triggerAction == .unchanged)
        #expect(second.ttlColumn == "expires_at")

        // Recorded changes survive a re-run.
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "DELETE FROM users WHERE id = 1") }
        _ = try ChangeTable.install(databasePath: db, table: "users")
        #expect(try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM archiver_changes") } == 1)
    }

    @Test func theApplicationKeepsWorking() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        _ = try ChangeTable.install(databasePath: db, table: "users", ttlColumn: "expires_at")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { db in
            try db.execute(sql: "INSERT INTO users (id, email, name) VALUES (100, 'new@example.com', 'New')")
            try db.execute(sql: "UPDATE users SET name = 'Renamed' WHERE id = 100")
            #expect(try String.fetchOne(db, sql: "SELECT name FROM users WHERE id = 100") == "Renamed")
            try db.execute(sql: "DELETE FROM users WHERE id = 100")
            #expect(db.changesCount == 1)
            // A delete with no WHERE clause still goes row by row and is recorded.
            try db.execute(sql: "DELETE FROM users")
            #expect(db.changesCount == 40)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM users") == 0)
        }
        // Updates and inserts are not deletions: only the 41 deletions are recorded.
        let records = try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records
        #expect(records.count == 41)
        #expect(records.allSatisfy { $0.scanned.eventName == .remove })
    }

    @Test func rerunningAfterAddingAColumnUpdatesTheTrigger() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        _ = try ChangeTable.install(databasePath: db, table: "users")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { db in
            try db.execute(sql: "ALTER TABLE users ADD COLUMN plan TEXT DEFAULT 'free'")
            try db.execute(sql: "ALTER TABLE users RENAME COLUMN name TO full_name") // SQLite rewrites the trigger itself
        }
        let report = try ChangeTable.install(databasePath: db, table: "users")
        #expect(report.triggerAction == .updated)
        #expect(report.columns.last == "plan")
        try app.writeNow { try $0.execute(sql: "DELETE FROM users WHERE id = 1") }
        let record = try #require(try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records.first)
        #expect(record.oldImage["plan"] == .s("free"))
        #expect(record.oldImage["full_name"] == .s("Ada Lovelace"))
        #expect(record.oldImage["name"] == nil)
    }

    @Test func renamedTableGetsOneTriggerUnderItsNewName() throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        _ = try ChangeTable.install(databasePath: db, table: "users")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "ALTER TABLE users RENAME TO members") }
        let report = try ChangeTable.install(databasePath: db, table: "members")
        #expect(report.triggerAction == .updated)
        try app.writeNow { try $0.execute(sql: "DELETE FROM members WHERE id = 1") }
        let recorded = try app.readNow { try String.fetchAll($0, sql: "SELECT table_name FROM archiver_changes") }
        #expect(recorded == ["members"])
    }

    @Test func oddNamesAreQuoted() async throws {
        let folder = try SQLiteTempFolder()
        let db = folder.file("odd.sqlite")
        let app = try SQLiteFixture.open(db)
        let table = "we\"ird tâble 😀'"
        try app.writeNow { db in
            try db.execute(sql: """
                CREATE TABLE "we""ird tâble 😀'" ("a b" TEXT, "c""d" INTEGER, "é's" REAL, `x``y` BLOB, PRIMARY KEY ("c""d", "a b"));
                INSERT INTO "we""ird tâble 😀'" VALUES ('k1', 1, 1.5, x'01'), ('k2', 2, NULL, NULL);
                """)
        }
        let report = try ChangeTable.install(databasePath: db, table: table)
        #expect(report.keyColumns == ["c\"d", "a b"])
        #expect(report.trigger == "archiver_delete_" + table)
        #expect(try ChangeTable.install(databasePath: db, table: table).triggerAction == .unchanged)
        try app.writeNow { try $0.execute(sql: "DELETE FROM \"we\"\"ird tâble 😀'\" WHERE \"c\"\"d\" = 1") }
        let record = try #require(try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records.first)
        #expect(record.keys == [KeyAttribute(name: "c\"d", type: .number, value: "1"), KeyAttribute(name: "a b", type: .string, value: "k1")])
        #expect(record.oldImage == Item([("a b", .s("k1")), ("c\"d", .n("1")), ("é's", .n("1.5")), ("x`y", .b([1]))]))
        #expect(record.json["eventSourceARN"] == .string("arn:archiver:sqlite:local::table/" + table))
    }

    @Test func tableWithoutPrimaryKeyIsKeyedByRowid() async throws {
        let folder = try SQLiteTempFolder()
        let db = folder.file("logs.sqlite")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { db in
            try db.execute(sql: "CREATE TABLE logs (message TEXT, at REAL); INSERT INTO logs VALUES ('a', 1.5), ('b', 2.5), ('c', 3.5)")
        }
        let report = try ChangeTable.install(databasePath: db, table: "logs")
        #expect(report.keyIsRowid)
        #expect(report.keyColumns == ["rowid"])
        try app.writeNow { try $0.execute(sql: "DELETE FROM logs WHERE message = 'b'") }
        let record = try #require(try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records.first)
        #expect(record.keys == [KeyAttribute(name: "rowid", type: .number, value: "2")])
        #expect(record.oldImage == Item([("message", .s("b")), ("at", .n("2.5"))]))

        // Restored with its rowid (from Keys) it takes its old place.
        let target = try SQLiteRestoreTarget(databasePath: db, table: "logs")
        #expect(try await target.restore([record.restoreItem], overwrite: false, dryRun: false) == [.restored])
        #expect(try app.readNow { try String.fetchOne($0, sql: "SELECT message FROM logs WHERE rowid = 2") } == "b")
        #expect(try await target.restore([record.restoreItem], overwrite: false, dryRun: false) == [.exists("logs row rowid=2 exists; pass --overwrite to replace it")])
    }

    @Test func expireDeletesOnlyExpiredRowsAsTTLExpiries() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        _ = try ChangeTable.install(databasePath: db, table: "users", ttlColumn: "expires_at")
        let app = try SQLiteFixture.open(db)
        // A text TTL never expires, whatever it compares like.
        try app.writeNow { try $0.execute(sql: "INSERT INTO users (id, email, extra, expires_at) VALUES (50, 'text-ttl@example.com', NULL, 'soon')") }
        let now = Date(timeIntervalSince1970: 1_705_315_800)
        let before = try app.readNow { try SQLiteFixture.storedRows($0, table: "users", orderBy: "id") }
        let expected = before.filter {
            guard case .int64(let ttl) = $0["expires_at"]!.value.storage else { return false }
            return ttl < 1_705_315_800
        }.map { $0["id"]!.value }
        #expect(expected.count == 20)

        let deleted = try ChangeTable.expire(databasePath: db, table: "users", now: now)
        #expect(deleted == 20)
        let remaining = try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM users") }
        #expect(remaining == before.count - 20)
        #expect(try app.readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM users WHERE id = 50") } == 1)

        // A manual delete right after: the flag is down again.
        let wallBefore = Date().timeIntervalSince1970
        try app.writeNow { try $0.execute(sql: "DELETE FROM users WHERE id = 1") }
        let wallAfter = Date().timeIntervalSince1970

        let records = try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records
        #expect(records.count == 21)
        let expired = records.prefix(20)
        #expect(expired.allSatisfy { $0.scanned.deletionKind == .ttl })
        #expect(expired.allSatisfy { $0.eventTime == .epochSeconds("1705315800") })
        #expect(expired.map { $0.oldImage["id"]! } == expected.map { .n("\(Int64.fromDatabaseValue($0)!)") })
        #expect(expired.first!.json["userIdentity"] == .object([("type", .string("Service")), ("principalId", .string("dynamodb.amazonaws.com"))]))

        let manual = records[20]
        #expect(manual.scanned.deletionKind == .manual)
        #expect(manual.json["userIdentity"] == nil)
        guard case .epochSeconds(let text) = manual.eventTime, let seconds = Double(text) else {
            Issue.record("no event time")
            return
        }
        #expect(seconds >= wallBefore - 1 && seconds <= wallAfter + 1)

        // Nothing left to expire.
        #expect(try ChangeTable.expire(databasePath: db, table: "users", now: now) == 0)
    }

    @Test func expireWithFractionalNowKeepsTheMilliseconds() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        _ = try ChangeTable.install(databasePath: db, table: "users", ttlColumn: "expires_at")
        #expect(try ChangeTable.expire(databasePath: db, table: "users", now: Date(timeIntervalSince1970: 1_699_999_999.75)) == 0)
        #expect(try ChangeTable.expire(databasePath: db, table: "users", now: Date(timeIntervalSince1970: 1_700_000_000.25)) == 1)
        let record = try #require(try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records.first)
        #expect(record.eventTime == .epochSeconds("1700000000.25"))
        #expect(record.oldImage["id"] == .n("2"))
    }

    @Test func errorsSayWhatToDo() throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)

        let missing = folder.file("missing.sqlite")
        #expect(throws: SQLiteArchiveError.self) { try ChangeTable.install(databasePath: missing, table: "users") }
        do {
            _ = try ChangeTable.install(databasePath: missing, table: "users")
        } catch let error as SQLiteArchiveError {
            #expect(error.kind == .noDatabase)
            #expect(error.description.contains("no SQLite database at \(missing)"))
        }
        #expect(!FileManager.default.fileExists(atPath: missing), "archiver never creates the application's database")

        let notADatabase = folder.file("notes.txt")
        try "hello, this is not SQLite, just some text that is long enough to be a page".write(toFile: notADatabase, atomically: true, encoding: .utf8)
        #expect(SQLiteFixture.errorKind { try ChangeTable.install(databasePath: notADatabase, table: "users") } == .cannotOpen)

        let noTable = SQLiteFixture.errorMessage { try ChangeTable.install(databasePath: db, table: "user") }
        #expect(noTable.contains("has no table named \"user\""))
        #expect(noTable.contains("\"users\""), "lists the tables there are")

        let noColumn = SQLiteFixture.errorMessage { try ChangeTable.install(databasePath: db, table: "users", ttlColumn: "expiry") }
        #expect(noColumn.contains("no column named \"expiry\"") && noColumn.contains("--ttl-column"))

        // expire before init, and without a TTL column.
        let notInstalled = SQLiteFixture.errorMessage { try ChangeTable.expire(databasePath: db, table: "users", now: Date()) }
        #expect(notInstalled.contains("archiver sqlite init"))
        _ = try ChangeTable.install(databasePath: db, table: "users")
        let noTTL = SQLiteFixture.errorMessage { try ChangeTable.expire(databasePath: db, table: "users", now: Date()) }
        #expect(noTTL.contains("no TTL column configured") && noTTL.contains("--ttl-column"))
        #expect(SQLiteFixture.errorKind { try ChangeTable.expire(databasePath: db, table: "users", now: Date()) } == .notConfigured)

        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "CREATE VIEW active AS SELECT * FROM users") }
        #expect(SQLiteFixture.errorMessage { try ChangeTable.install(databasePath: db, table: "active") }.contains("is a view"))
        #expect(SQLiteFixture.errorMessage { try ChangeTable.install(databasePath: db, table: "archiver_changes") }.contains("internal table"))

        // A table of that name made by something else is not written into.
        let other = try SQLiteFixture.copy(into: folder, name: "other.sqlite")
        try SQLiteFixture.open(other).writeNow { try $0.execute(sql: "CREATE TABLE archiver_changes (id INTEGER PRIMARY KEY, note TEXT)") }
        let foreign = SQLiteFixture.errorMessage { try ChangeTable.install(databasePath: other, table: "users") }
        #expect(foreign.contains("archiver_changes without the columns"))
        #expect(try SQLiteFixture.open(other).readNow { try Int.fetchOne($0, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") } == 0)
    }
}
