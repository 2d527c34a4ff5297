import ArchiverSQLite
import ArchiverCore
import Foundation
import GRDB
import Testing

@Suite struct SQLiteChangeSourceTests {
    /// The attribute a stored cell should come back as (reals are checked by value separately).
    private func expectedAttribute(_ cell: SQLiteStoredCell) -> AttributeValue {
        switch cell.value.storage {
        case .int64(let i): return .n(String(i))
        case .double(let d): return .n("\(d)")
        case .blob(let data) where cell.type == "text": return .s(String(decoding: data, as: UTF8.self))
        case .blob(let data): return .b(Array(data))
        case .string(let s): return .s(s)
        case .null: return cell.type == "blob" ? .b([]) : cell.type == "text" ? .s("") : .null
        }
    }

    @Test func manualDeletesYieldTheWholeRowAsARemoveRecord() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        _ = try ChangeTable.install(databasePath: db, table: "users", ttlColumn: "expires_at")
        let app = try SQLiteFixture.open(db)
        let rows = try app.readNow { try SQLiteFixture.storedRows($0, table: "users", orderBy: "id") }
        try app.writeNow { db in
            for id in 1...40 { try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id]) }
        }

        let source = try SQLiteChangeSource(databasePath: db)
        #expect(source.id == "sqlite:" + db)
        #expect(source.keyOrder == nil)
        let records = try await SQLiteFixture.readRecords(source).records
        #expect(records.count == 40)
        for (record, row) in zip(records, rows) {
            #expect(record.scanned.eventName == .remove)
            #expect(record.scanned.deletionKind == .manual)
            #expect(record.keys == [KeyAttribute(name: "id", type: .number, value: "\(Int64.fromDatabaseValue(row["id"]!.value)!)")])
            let image = record.oldImage
            #expect(image.attributes.map(\.0) == ["id", "email", "name", "balance", "visits", "avatar", "extra", "expires_at"])
            for (name, cell) in row {
                let value = try #require(image[name])
                if case .double(let d) = cell.value.storage {
                    guard case .n(let text) = value, let back = Double(text) else {
                        Issue.record("\(name) of row \(row["id"]!) is \(value), expected a number")
                        continue
                    }
                    #expect(back.bitPattern == d.bitPattern, "\(name): \(text) does not read back as \(d)")
                    #expect(text.contains(".") || text.contains("e"), "a REAL keeps a fraction or exponent: \(text)")
                } else {
                    #expect(value == expectedAttribute(cell), "\(name) of row \(row["id"]!)")
                }
            }
        }

        // The values that only survive exact handling, spelled out.
        let byID = Dictionary(uniqueKeysWithValues: records.map { record -> (String, Item) in
            guard case .n(let id) = record.oldImage["id"] else { return ("", record.oldImage) }
            return (id, record.oldImage)
        })
        #expect(byID["1"]!["balance"] == .n("0.1"))
        #expect(byID["1"]!["avatar"] == .b([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        #expect(byID["1"]!["expires_at"] == .null)
        #expect(byID["2"]!["name"] == .s("Zoë Ångström"))
        #expect(byID["2"]!["balance"] == .n("0.3333333333333333"))
        #expect(byID["2"]!["visits"] == .n("9007199254740993"))
        #expect(byID["3"]!["name"] == .s("李小龙"))
        #expect(byID["3"]!["balance"] == .n("1e+300"))
        #expect(byID["3"]!["visits"] == .n("9223372036854775807"))
        #expect(byID["3"]!["avatar"] == .b([]))
        #expect(byID["4"]!["name"] == .s("😀 grinning"))
        #expect(byID["4"]!["balance"] == .n("-2.5e-300"))
        #expect(byID["4"]!["visits"] == .n("-9223372036854775808"))
        #expect(byID["4"]!["extra"] == .b([0xDE, 0xAD, 0xBE, 0xEF]))
        #expect(byID["5"]!["name"] == .s("O'Brien \"the\" quoted"))
        #expect(byID["6"]!["name"] == .s("tab\tand\nnewline"))
        #expect(byID["6"]!["extra"] == .s("123"))
        #expect(byID["8"]!["balance"] == .n("5e-324"))
        #expect(byID["8"]!["name"] == .s(""))
        #expect(byID["9"]!["balance"] == .n("1.0"))
        #expect(byID["10"]!["extra"] == .s("text with \\ backslash"))
    }

    @Test func recordsHaveTheStreamRecordShape() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        _ = try ChangeTable.install(databasePath: db, table: "order lines")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "DELETE FROM \"order lines\" WHERE \"order id\" = 'B/7'") }

        let records = try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records
        #expect(records.count == 2)
        let record = records[0]
        let json = record.json
        #expect(json.objectMembers!.map(\.0) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion", "dynamodb", "eventSourceARN"])
        #expect(json["eventName"] == .string("REMOVE"))
        #expect(json["eventSource"] == .string("archiver:sqlite"))
        #expect(json["awsRegion"] == .string("local"))
        #expect(json["eventSourceARN"] == .string("arn:archiver:sqlite:local::table/order lines"))
        let eventID = try #require(json["eventID"]?.stringValue)
        #expect(eventID.count == 32 && eventID.allSatisfy(\.isHexDigit))
        #expect(records[1].json["eventID"] != json["eventID"])
        let dynamodb = try #require(json["dynamodb"])
        #expect(dynamodb.objectMembers!.map(\.0) == ["ApproximateCreationDateTime", "Keys", "OldImage", "SequenceNumber", "SizeBytes", "StreamViewType"])
        #expect(dynamodb["SequenceNumber"] == .string("00000000000000000001"))
        #expect(records[1].scanned.sequenceNumber == "00000000000000000002")
        #expect(dynamodb["StreamViewType"] == .string("NEW_AND_OLD_IMAGES"))
        guard case .number(let size) = dynamodb["SizeBytes"], let bytes = Int(size) else {
            Issue.record("SizeBytes is not a number")
            return
        }
        #expect(bytes > 20)
        #expect(record.keys == [
            KeyAttribute(name: "order id", type: .string, value: "B/7"), KeyAttribute(name: "line #", type: .number, value: "1"),
        ])
        #expect(record.oldImage == Item([
            ("order id", .s("B/7")), ("line #", .n("1")), ("prix €", .n("3.5")), ("note \"quoted\"", .s("../../etc/passwd")),
        ]))
        #expect(record.position == "archiver_changes seq 1")
        #expect(try DeletionTime(record.eventTime!).epochSeconds > 1_600_000_000)
    }

    @Test func unusualValuesSurvive() async throws {
        let folder = try SQLiteTempFolder()
        let db = folder.file("values.sqlite")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { db in
            try db.execute(sql: """
                CREATE TABLE t (id INTEGER PRIMARY KEY, v);
                INSERT INTO t VALUES (1, 'a' || char(0) || 'b'), (2, CAST(x'FF41' AS TEXT)), (3, 1e999), (4, -1e999),
                                     (5, ''), (6, x''), (7, -0.0), (8, 9223372036854775807), (9, 1e16), (10, 'line' || char(8232) || 'sep');
                """)
        }
        _ = try ChangeTable.install(databasePath: db, table: "t")
        try app.writeNow { try $0.execute(sql: "DELETE FROM t") }
        let values = try await SQLiteFixture.readRecords(SQLiteChangeSource(databasePath: db)).records.map { $0.oldImage["v"]! }
        #expect(values == [
            .s("a\u{0}b"),
            .b([0xFF, 0x41]), // TEXT that is not UTF-8 keeps its bytes as B
            .n("1e999"), .n("-1e999"),
            .s(""), .b([]),
            .n("-0.0"),
            .n("9223372036854775807"),
            .n("1e+16"),
            .s("line\u{2028}sep"),
        ])
    }

    @Test func replaysAreByteIdenticalAndResumeAfterTheCheckpoint() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)
        _ = try ChangeTable.install(databasePath: db, table: "users", ttlColumn: "expires_at")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "DELETE FROM users WHERE id <= 10") }

        let source = try SQLiteChangeSource(databasePath: db, batchSize: 3)
        let first = try await SQLiteFixture.readRecords(source)
        #expect(first.records.count == 10)
        #expect(first.batches == 4)
        #expect(first.checkpoint == "10")
        let again = try await SQLiteFixture.readRecords(try SQLiteChangeSource(databasePath: db))
        #expect(again.records.map(\.bytes) == first.records.map(\.bytes))

        // Batches end at the checkpoint they report.
        var checkpoints: [String] = []
        for try await batch in source.batches(after: [:], follow: false, stop: StopSignal()) { checkpoints.append(batch.checkpoint) }
        #expect(checkpoints == ["3", "6", "9", "10"])

        let resumed = try await SQLiteFixture.readRecords(source, after: "6")
        #expect(resumed.records.map(\.bytes) == Array(first.records.suffix(4).map(\.bytes)))

        // Later deletions (TTL ones too) come after the last checkpoint.
        #expect(try await SQLiteFixture.readRecords(source, after: "10").records.isEmpty)
        _ = try ChangeTable.expire(databasePath: db, table: "users", now: Date(timeIntervalSince1970: 1_705_315_800))
        let later = try await SQLiteFixture.readRecords(source, after: "10")
        #expect(later.records.count == 15) // the even ids 12…40
        #expect(later.records.allSatisfy { $0.scanned.deletionKind == .ttl })
        #expect(later.records.first?.scanned.sequenceNumber == "00000000000000000011")
        #expect(later.checkpoint == "25")
    }

    @Test(arguments: [false, true]) func followPicksUpNewDeletionsAndEndsOnStop(wal: Bool) async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder, wal: wal)
        _ = try ChangeTable.install(databasePath: db, table: "users")
        let app = try SQLiteFixture.open(db)
        try app.writeNow { try $0.execute(sql: "DELETE FROM users WHERE id = 1") }

        let source = try SQLiteChangeSource(databasePath: db, pollInterval: 0.02)
        let stop = StopSignal()
        let seen = SeenRecords()
        let reader = Task {
            for try await batch in source.batches(after: [:], follow: true, stop: stop) {
                for range in batch.records { seen.add(try RecordScanner().scan(Array(batch.buffer[range]))) }
            }
        }
        try await SQLiteFixture.waitUntil { seen.count == 1 }
        // The application deletes while the source is following: it is never locked out.
        for id in 2...5 {
            try app.writeNow { try $0.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id]) }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        try await SQLiteFixture.waitUntil { seen.count == 5 }
        stop.stop()
        try await reader.value
        #expect(seen.sequenceNumbers == (1...5).map { String(format: "%020d", $0) })
    }

    @Test func errorsSayWhatToDo() async throws {
        let folder = try SQLiteTempFolder()
        let db = try SQLiteFixture.copy(into: folder)

        let missing = SQLiteFixture.errorMessage { try SQLiteChangeSource(databasePath: folder.file("nope.sqlite")) }
        #expect(missing.contains("no SQLite database at"))

        let noChangeTable = SQLiteFixture.errorMessage { try SQLiteChangeSource(databasePath: db) }
        #expect(noChangeTable.contains("has no archiver change table"))
        #expect(noChangeTable.contains("archiver sqlite init \(db) --table"))
        #expect(SQLiteFixture.errorKind { try SQLiteChangeSource(databasePath: db) } == .noChangeTable)

        _ = try ChangeTable.install(databasePath: db, table: "users")
        let source = try SQLiteChangeSource(databasePath: db)
        await #expect(throws: SQLiteArchiveError.self) {
            for try await _ in source.batches(after: ["": "shard-0001"], follow: false, stop: StopSignal()) {}
        }
    }
}

/// Records seen by a following reader, shared with the test.
private final class SeenRecords: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [ScannedRecord] = []
    func add(_ record: ScannedRecord) { lock.withLock { records.append(record) } }
    var count: Int { lock.withLock { records.count } }
    var sequenceNumbers: [String] { lock.withLock { records.compactMap(\.sequenceNumber) } }
}
