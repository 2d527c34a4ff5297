import ArchiverCore
import Foundation
import Testing

@Suite struct NamingTests {
    func key(_ values: [String], seq: String? = "1100000000017454423011", time: Int64 = 1_705_315_800, kind: DeletionKind = .manual) -> ArchiveKey {
        let keys = values.enumerated().map { KeyAttribute(name: "K\($0.offset)", type: .string, value: $0.element) }
        return [UInt8]("record".utf8).withUnsafeBytes {
            ArchiveKey(keys: keys, time: DeletionTime(epochSeconds: time)!, sequenceNumber: seq, kind: kind, recordBytes: $0)
        }
    }

    @Test func theSeedsShape() {
        #expect(key(["USER#123", "PROFILE"]).path == "2024/01/15/USER#123_PROFILE.105000.1100000000017454423011.manual.json.gz")
        #expect(key(["SESSION#abc"], kind: .ttl).path == "2024/01/15/SESSION#abc.105000.1100000000017454423011.ttl.json.gz")
    }

    @Test(arguments: ["../../etc/passwd", "..", ".", "a/b", "a\\b", "nul\u{0}x", "tab\tnew\nline", "%2F", " spaced ", "\u{202E}rtl", ".hidden"])
    func noValueClimbsOutOrHides(value: String) {
        let name = key([value])
        #expect(validateArchiveKey(name.path) == nil, "\(name.path)")
        #expect(name.path.split(separator: "/").count == 4)
        #expect(!name.fileName.hasPrefix("."))
        #expect(!name.fileName.contains("/") && !name.fileName.contains("\\"))
        #expect(!name.fileName.unicodeScalars.contains { $0.value < 0x20 || $0.properties.generalCategory == .format })
    }

    @Test func longValuesAreCutWithAHashAndStayUnique() {
        let long = String(repeating: "é", count: 2000)
        let a = key([long])
        let b = key([long + "x"])
        #expect(a.fileName.utf8.count <= 255)
        #expect(a.path.utf8.count <= 1024)
        #expect(a.itemKey.contains("~"))
        #expect(a.itemKey != b.itemKey)
        #expect(validateArchiveKey(a.path) == nil)
        // Many values and a long sequence number still fit.
        let many = key(Array(repeating: String(repeating: "%", count: 300), count: 3), seq: String(repeating: "9", count: 200))
        #expect(many.fileName.utf8.count <= 255)
    }

    @Test func sameRecordSameNameAndTwoDeletionsTwoNames() {
        #expect(key(["A"]) == key(["A"]))
        #expect(key(["A"], seq: "1").path != key(["A"], seq: "2").path)
        // Without a sequence number, the name carries a hash of the record bytes.
        #expect(key(["A"], seq: nil).sequence.hasPrefix("h"))
    }

    @Test func namesParseBack() throws {
        let original = key(["USER#1", "a.b.c"], kind: .ttl)
        let parsed = try #require(ArchiveKey(path: original.path))
        #expect(parsed == original)
        #expect(ArchiveKey(path: "2024/01/15/.tmp") == nil)
        #expect(ArchiveKey(path: "2024/13/15/A.105000.1.manual.json.gz") == nil)
        #expect(ArchiveKey(path: "2024/01/16/A.105000.1.manual.json.gz")?.time.day == 16)
    }

    @Test(arguments: [
        ("1705315800", "2024-01-15T10:50:00Z"),
        ("1705315800.999", "2024-01-15T10:50:00Z"),
        ("1.7053158E9", "2024-01-15T10:50:00Z"),
        ("-1", "1969-12-31T23:59:59Z"),
        ("-0.5", "1969-12-31T23:59:59Z"),
        ("0", "1970-01-01T00:00:00Z"),
        ("253402300799", "9999-12-31T23:59:59Z"),
    ])
    func epochSeconds(text: String, expected: String) throws {
        #expect(try DeletionTime(.epochSeconds(text)).description == expected)
    }

    @Test(arguments: [
        ("2024-01-15T10:30:00Z", "2024-01-15T10:30:00Z"),
        ("2024-01-15T10:30:00.123456Z", "2024-01-15T10:30:00Z"),
        ("2024-01-15T00:30:00+01:00", "2024-01-14T23:30:00Z"),
        ("2024-02-29 23:59:59-0130", "2024-03-01T01:29:59Z"),
        ("2024-01-15", "2024-01-15T00:00:00Z"),
    ])
    func isoTimes(text: String, expected: String) throws {
        #expect(try DeletionTime(.iso8601(text)).description == expected)
    }

    @Test(arguments: ["253402300800", "-62135596801", "1e20", "2024-02-30T00:00:00Z", "yesterday", "2024-01-15T25:00:00Z"])
    func timesOutOfRangeOrMalformed(text: String) {
        let time: EventTime = text.contains("-") && !text.hasPrefix("-") || text.contains("y") ? .iso8601(text) : .epochSeconds(text)
        #expect(throws: RecordError.self) { try DeletionTime(time) }
    }
}
