import Foundation
import GRDB

/// The subject index in the state database: subject HMAC → the archive keys of its records.
///
/// Records arrive in archive order, spread over every subject; an index kept in subject order and written record by
/// record would rewrite most of its pages at every commit. So it is kept in two tables, both written in order:
///
/// - `subject_log`: one row per commit batch, its records' entries packed in one blob (HMAC, archive time, archive
///   key, batched object's index key). Appending it costs one row per batch.
/// - `subject_groups`: the log merged, one row per subject per merge (its entries packed, without the HMAC), found
///   through an index on the HMAC. The log is merged into it when it holds ``mergeAt`` entries, and before an
///   erasure removes entries, so that a lookup reads a bounded log plus a subject's few groups.
///
/// HMACs are stored as 32-byte blobs; a subject is never stored in clear. An entry indexed twice (a replayed batch,
/// a rebuild) is read once.
public enum SubjectIndex {
    /// Log entries that start a merge.
    static let mergeAt = 1 << 18

    /// One record of a subject: its archive key, the index key of its batched object (nil in a per-record archive)
    /// and when it was indexed.
    public struct Entry: Sendable, Equatable {
        public var archiveKey: String
        public var objectKey: String?
        public var archivedAt: Date
    }

    static let migrationName = "subject-index-packed"

    /// Replaces the first layout (`subject_index`, one row per record in HMAC order) by the packed tables, carrying
    /// over its rows.
    @Sendable static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE subject_log (id INTEGER PRIMARY KEY, entries INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE TABLE subject_groups (id INTEGER PRIMARY KEY, subject BLOB NOT NULL, entries INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE INDEX subject_groups_subject ON subject_groups (subject);
            """)
        var marks: [SubjectMark] = []
        var dates: [Double] = []
        let rows = try Row.fetchCursor(db, sql: "SELECT subject_hmac, archive_key, object_key, archived_at FROM subject_index")
        while let row = try rows.next() {
            marks.append(SubjectMark(hmac: row[0], archiveKey: row[1], objectKey: row[2]))
            dates.append(row[3])
        }
        var body = Packed()
        for (mark, date) in zip(marks, dates) {
            guard let subject = SubjectID(hex: mark.hmac) else { continue }
            body.append(subject: subject, archivedAt: date, archiveKey: mark.archiveKey, objectKey: mark.objectKey)
        }
        if !marks.isEmpty {
            try db.execute(sql: "INSERT INTO subject_log (entries, body) VALUES (?, ?)", arguments: [marks.count, Data(body.bytes)])
            try merge(db)
        }
        try db.execute(sql: "DROP TABLE subject_index")
    }

    /// Adds a batch's marks: one log row; merges the log when it is long.
    static func append(_ db: Database, _ marks: [SubjectMark], at date: Date) throws {
        var body = Packed()
        body.bytes.reserveCapacity(marks.count * 110)
        let now = date.timeIntervalSince1970
        var count = 0
        for mark in marks {
            guard let subject = SubjectID(hex: mark.hmac) else { continue }
            body.append(subject: subject, archivedAt: now, archiveKey: mark.archiveKey, objectKey: mark.objectKey)
            count += 1
        }
        guard count > 0 else { return }
        try db.cachedStatement(sql: "INSERT INTO subject_log (entries, body) VALUES (?, ?)").execute(arguments: [count, Data(body.bytes)])
        if try Int.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(SUM(entries), 0) FROM subject_log")) ?? 0 >= mergeAt {
            try merge(db)
        }
    }

    /// Moves the log into groups: one row per subject, in HMAC order.
    static func merge(_ db: Database) throws {
        var groups: [SubjectID: (count: Int, body: [UInt8])] = [:]
        let rows = try Data.fetchCursor(db, sql: "SELECT body FROM subject_log ORDER BY id")
        while let data = try rows.next() {
            Packed.forEach(Array(data), withSubjects: true) { subject, entry in
                groups[subject!, default: (0, [])].count += 1
                groups[subject!]!.body += entry
            }
        }
        let insert = try db.cachedStatement(sql: "INSERT INTO subject_groups (subject, entries, body) VALUES (?, ?, ?)")
        for (subject, group) in groups.sorted(by: { $0.key < $1.key }) {
            try insert.execute(arguments: [subject.data, group.count, Data(group.body)])
        }
        try db.execute(sql: "DELETE FROM subject_log")
    }

    /// The records indexed for a subject (HMAC in hex), each archive key once, in key order.
    static func records(_ db: Database, subjectHMAC: String) throws -> [Entry] {
        guard let subject = SubjectID(hex: subjectHMAC) else { return [] }
        var found: [String: Entry] = [:]
        try forEachEntry(db, of: subject) { entry in
            if found[entry.archiveKey] == nil { found[entry.archiveKey] = entry }
            return true
        }
        return found.values.sorted { $0.archiveKey < $1.archiveKey }
    }

    /// Whether any record of the subject is indexed.
    static func contains(_ db: Database, subjectHMAC: String) throws -> Bool {
        guard let subject = SubjectID(hex: subjectHMAC) else { return false }
        var any = false
        try forEachEntry(db, of: subject) { _ in
            any = true
            return false
        }
        return any
    }

    /// Calls `body` with each entry of `subject` (groups, then log) until it returns false.
    private static func forEachEntry(_ db: Database, of subject: SubjectID, _ body: (Entry) -> Bool) throws {
        var going = true
        let groups = try Data.fetchCursor(db, sql: "SELECT body FROM subject_groups WHERE subject = ? ORDER BY id", arguments: [subject.data])
        while going, let data = try groups.next() {
            Packed.forEach(Array(data), withSubjects: false) { _, entry in
                if going { going = body(Packed.entry(entry)) }
            }
        }
        let log = try Data.fetchCursor(db, sql: "SELECT body FROM subject_log ORDER BY id")
        while going, let data = try log.next() {
            Packed.forEach(Array(data), withSubjects: true) { found, entry in
                if going && found == subject { going = body(Packed.entry(entry)) }
            }
        }
    }

    /// Removes the subject's entries of `keys` (every copy): the log is merged first, then the subject's groups are
    /// rewritten without them (deleted when emptied).
    static func remove(_ db: Database, subjectHMAC: String, keys: Set<String>) throws {
        guard !keys.isEmpty, let subject = SubjectID(hex: subjectHMAC) else { return }
        if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM subject_log)") ?? false { try merge(db) }
        let rows = try Row.fetchAll(db, sql: "SELECT id, body FROM subject_groups WHERE subject = ?", arguments: [subject.data])
        for row in rows {
            var kept: [UInt8] = []
            var count = 0
            var changed = false
            Packed.forEach(Array(row["body"] as Data), withSubjects: false) { _, entry in
                if keys.contains(Packed.entry(entry).archiveKey) {
                    changed = true
                } else {
                    kept += entry
                    count += 1
                }
            }
            guard changed else { continue }
            if count == 0 {
                try db.execute(sql: "DELETE FROM subject_groups WHERE id = ?", arguments: [row["id"] as Int64])
            } else {
                try db.execute(sql: "UPDATE subject_groups SET entries = ?, body = ? WHERE id = ?", arguments: [count, Data(kept), row["id"] as Int64])
            }
        }
    }

    /// Records indexed (a record indexed twice counts twice) and distinct subjects.
    static func counts(_ db: Database) throws -> (records: Int, subjects: Int) {
        var subjects = Set(try Data.fetchAll(db, sql: "SELECT DISTINCT subject FROM subject_groups").compactMap(SubjectID.init(data:)))
        var records = try Int.fetchOne(db, sql: "SELECT COALESCE(SUM(entries), 0) FROM subject_groups") ?? 0
        let log = try Data.fetchCursor(db, sql: "SELECT body FROM subject_log")
        while let data = try log.next() {
            Packed.forEach(Array(data), withSubjects: true) { subject, _ in
                subjects.insert(subject!)
                records += 1
            }
        }
        return (records, subjects.count)
    }
}

/// A subject's HMAC-SHA256, as four words (hashable without allocating).
struct SubjectID: Hashable, Comparable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64)

    init?(hex text: String) {
        var text = text
        guard let words = text.withUTF8({ Self.words(hex: $0) }) else { return nil }
        self.words = words
    }

    private static func words(hex utf8: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64, UInt64, UInt64)? {
        guard utf8.count == 64 else { return nil }
        var words: [UInt64] = [0, 0, 0, 0]
        var valid = true
        for index in 0..<64 {
            let character = utf8[index]
            let value: UInt8
            if character &- UInt8(ascii: "0") < 10 {
                value = character &- UInt8(ascii: "0")
            } else if character | 0x20 &- UInt8(ascii: "a") < 6 {
                value = (character | 0x20) &- UInt8(ascii: "a") &+ 10
            } else {
                valid = false
                value = 0
            }
            words[index >> 4] = words[index >> 4] << 4 | UInt64(value)
        }
        return valid ? (words[0], words[1], words[2], words[3]) : nil
    }

    init?(data: Data) {
        guard data.count == 32 else { return nil }
        self.init(bytes: Array(data)[...])
    }

    init(bytes: ArraySlice<UInt8>) {
        func word(_ at: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in 0..<8 { value = value << 8 | UInt64(bytes[bytes.startIndex + at + index]) }
            return value
        }
        words = (word(0), word(8), word(16), word(24))
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for word in [words.0, words.1, words.2, words.3] {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        return out
    }

    var data: Data { Data(bytes) }

    static func == (a: SubjectID, b: SubjectID) -> Bool { a.words == b.words }

    static func < (a: SubjectID, b: SubjectID) -> Bool {
        (a.words.0, a.words.1, a.words.2, a.words.3) < (b.words.0, b.words.1, b.words.2, b.words.3)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }
}

/// Packed entries: `[HMAC, 32 bytes, in the log only] archived-at (float64, little-endian) | archive key length (u16)
/// | archive key | object key length (u16, 0xFFFF: none) | object key`.
struct Packed {
    var bytes: [UInt8] = []

    mutating func append(subject: SubjectID, archivedAt: Double, archiveKey: String, objectKey: String?) {
        for word in [subject.words.0, subject.words.1, subject.words.2, subject.words.3] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        appendEntry(archivedAt: archivedAt, archiveKey: archiveKey, objectKey: objectKey)
    }

    mutating func appendEntry(archivedAt: Double, archiveKey: String, objectKey: String?) {
        let time = archivedAt.bitPattern
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: time >> UInt64(shift))) }
        appendText(archiveKey)
        if let objectKey { appendText(objectKey) } else { bytes += [0xFF, 0xFF] }
    }

    private mutating func appendText(_ text: String) {
        let count = min(text.utf8.count, 0xFFFE)
        bytes.append(UInt8(truncatingIfNeeded: count))
        bytes.append(UInt8(truncatingIfNeeded: count >> 8))
        if count == text.utf8.count { bytes.append(contentsOf: text.utf8) } else { bytes.append(contentsOf: text.utf8.prefix(count)) }
    }

    /// Calls `body` with each entry's subject (log bodies only) and its bytes without the subject. A body cut short
    /// (never written so) ends the walk.
    static func forEach(_ body: [UInt8], withSubjects: Bool, _ each: (SubjectID?, ArraySlice<UInt8>) -> Void) {
        var at = 0
        func length(_ offset: Int) -> Int? {
            guard offset + 2 <= body.count else { return nil }
            return Int(body[offset]) | Int(body[offset + 1]) << 8
        }
        while at < body.count {
            var subject: SubjectID?
            if withSubjects {
                guard at + 32 <= body.count else { return }
                subject = SubjectID(bytes: body[at..<(at + 32)])
                at += 32
            }
            let start = at
            at += 8
            guard let keyLength = length(at) else { return }
            at += 2 + keyLength
            guard let objectLength = length(at) else { return }
            at += 2 + (objectLength == 0xFFFF ? 0 : objectLength)
            guard at <= body.count else { return }
            each(subject, body[start..<at])
        }
    }

    /// Decodes an entry's bytes (without the subject).
    static func entry(_ bytes: ArraySlice<UInt8>) -> SubjectIndex.Entry {
        let base = bytes.startIndex
        var time: UInt64 = 0
        for index in 0..<8 { time |= UInt64(bytes[base + index]) << UInt64(8 * index) }
        let keyLength = Int(bytes[base + 8]) | Int(bytes[base + 9]) << 8
        let keyStart = base + 10
        let archiveKey = String(decoding: bytes[keyStart..<(keyStart + keyLength)], as: UTF8.self)
        let objectAt = keyStart + keyLength
        let objectLength = Int(bytes[objectAt]) | Int(bytes[objectAt + 1]) << 8
        let objectKey = objectLength == 0xFFFF ? nil : String(decoding: bytes[(objectAt + 2)..<(objectAt + 2 + objectLength)], as: UTF8.self)
        return SubjectIndex.Entry(archiveKey: archiveKey, objectKey: objectKey, archivedAt: Date(timeIntervalSince1970: Double(bitPattern: time)))
    }
}
