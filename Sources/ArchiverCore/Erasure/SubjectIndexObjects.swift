import Crypto
import JSONToolkit

/// The subject index kept in the archive itself: small objects written with each commit batch whose records a rule
/// with `subject:` indexed, so that another machine (with a copy of the subject key) rebuilds the state folder's
/// index without reading a record (`archiver index rebuild`).
///
///     _subjects/2024/01/15/103000-104459.12s.3f2a9c0e5b7d1a46.jsonl.gz
///               └─ day ──┘ └first┘ └last┘ └n┘ └──── id ──────┘
///
/// - One object per commit batch and UTC day of its records' deletion times; `first`/`last` are the earliest and
///   latest deletion times it names (HHMMSS), `n` its lines, the id the first 16 hex digits of the SHA-256 of its
///   lines. Same records, same bytes and same name: a replayed batch rewrites its object; a batch cut otherwise
///   after a crash leaves a second object naming the same records, which a rebuild reads twice without harm.
/// - gzip JSON lines: a header (`archiver_subject_index`, `key_id`: a hash of the subject key, never the key,
///   `records`), then one line per record: `subject` (its HMAC in hex, never the subject), `key` (its archive key
///   as a per-record object), `object` (a batched archive: the index of the object holding it), `deleted_at`.
/// - Under `_subjects/` at the archive's root: Hive-style readers (Athena, Spark) skip names starting with `_`, and
///   no command that reads records (`ls`, `restore`, `sync`, a batched layout's listing, the record scan) takes a
///   key of five segments.
public enum SubjectIndexObjects {
    /// The folder at the archive's root that holds them.
    public static let prefix = "_subjects/"
    public static let suffix = ".jsonl.gz"
    /// The format's version, in each header.
    static let version = 1
    /// The largest object read back (a day's batch of 100,000 records is about 20 MB uncompressed).
    static let maximumBytes = 256 << 20

    /// One record's line.
    public struct Line: Sendable, Equatable {
        public var subject: String
        public var archiveKey: String
        public var objectKey: String?
        public var deletedAt: DeletionTime

        var mark: SubjectMark { SubjectMark(hmac: subject, archiveKey: archiveKey, objectKey: objectKey) }
    }

    /// An object read back.
    public struct Contents: Sendable {
        public var keyID: String
        public var lines: [Line]
    }

    /// A name read back.
    public struct Name: Sendable, Equatable {
        public var datePath: String
        /// Seconds of the day of the earliest and latest deletion time named.
        public var first: Int
        public var last: Int

        /// Reads an index object's key (relative to the archive root); nil for anything else.
        public init?(key: String) {
            guard key.hasPrefix(SubjectIndexObjects.prefix), key.hasSuffix(SubjectIndexObjects.suffix) else { return nil }
            let segments = key.dropFirst(SubjectIndexObjects.prefix.count).split(separator: "/", omittingEmptySubsequences: false)
            guard segments.count == 4, segments[0].utf8.count == 4, segments[1].utf8.count == 2, segments[2].utf8.count == 2,
                  segments[0...2].allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }) else { return nil }
            let parts = segments[3].dropLast(SubjectIndexObjects.suffix.count).split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[1].hasSuffix("s"), Int(parts[1].dropLast()) != nil else { return nil }
            let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2, let first = BatchedObjectName.seconds(bounds[0]), let last = BatchedObjectName.seconds(bounds[1]), first <= last
            else { return nil }
            datePath = segments[0...2].joined(separator: "/")
            self.first = first
            self.last = last
        }

        /// Whether a record deleted at `time` can be named in it.
        public func covers(_ time: DeletionTime) -> Bool {
            time.datePath == datePath && (first...last).contains(time.hour * 3600 + time.minute * 60 + time.second)
        }
    }

    /// The folder listing the index objects of the day `time` falls on.
    public static func dayPrefix(_ time: DeletionTime) -> String { prefix + time.datePath + "/" }

    /// The objects for a batch's marks: one per UTC day, lines in archive-key order (each key once). Marks whose
    /// key is not an archive key name no day and are left out (the state database still holds them).
    public static func objects(for marks: [SubjectMark], keyID: String) -> [ArchiveObject] {
        var days: [String: [Line]] = [:]
        var day = ""
        var dayTime: DeletionTime?
        for mark in marks {
            guard let time = deletionTime(of: mark.archiveKey) else { continue }
            // Records of a batch are mostly of one day: its path is built once.
            if dayTime.map({ $0.year != time.year || $0.month != time.month || $0.day != time.day }) ?? true {
                day = time.datePath
                dayTime = time
            }
            days[day, default: []].append(Line(subject: mark.hmac, archiveKey: mark.archiveKey, objectKey: mark.objectKey, deletedAt: time))
        }
        return days.keys.sorted().compactMap { object(days[$0]!, keyID: keyID) }
    }

    /// The object holding `lines` (all of one day), named after them; nil when there are none.
    static func object(_ lines: [Line], keyID: String) -> ArchiveObject? {
        // In key order, each key once (a record is indexed under one subject).
        var lines = lines.sorted { $0.archiveKey < $1.archiveKey }
        var kept = 0
        for index in lines.indices where kept == 0 || lines[index].archiveKey != lines[kept - 1].archiveKey {
            lines[kept] = lines[index]
            kept += 1
        }
        lines.removeLast(lines.count - kept)
        guard let firstLine = lines.first else { return nil }
        let body = text(lines, keyID: keyID)
        let seconds = lines.map { $0.deletedAt.hour * 3600 + $0.deletedAt.minute * 60 + $0.deletedAt.second }
        let name = "\(BatchedObjectName.compact(seconds.min()!))-\(BatchedObjectName.compact(seconds.max()!)).\(lines.count)s.\(hexPrefix(SHA256.hash(data: body), 16))"
        return ArchiveObject(key: prefix + firstLine.deletedAt.datePath + "/" + name + suffix, body: GzipEncoder().compress(body))
    }

    /// The same object with the lines of `subject` left out, every other line as it was (the name kept: an erasure
    /// replaces it in place); nil when no line is left.
    static func rewritten(_ scan: Scan, key: String) -> ArchiveObject? {
        guard scan.named.count < scan.lines.count else { return nil }
        var out = header(keyID: scan.keyID, records: scan.lines.count - scan.named.count)
        out.reserveCapacity(scan.text.count)
        var named = scan.named.makeIterator()
        var next = named.next()
        for (index, range) in scan.lines.enumerated() {
            if index == next {
                next = named.next()
                continue
            }
            out += scan.text[range]
            out.append(0x0A)
        }
        return ArchiveObject(key: key, body: GzipEncoder().compress(out))
    }

    private static func header(keyID: String, records: Int) -> [UInt8] {
        var header = JSONObjectWriter()
        header.int("archiver_subject_index", version)
        header.string("key_id", keyID)
        header.int("records", records)
        return header.finished() + [0x0A]
    }

    private static func text(_ lines: [Line], keyID: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(lines.count * 200 + 100)
        out += header(keyID: keyID, records: lines.count)
        for line in lines {
            out += #"{"subject":"#.utf8
            writeJSONString(line.subject, to: &out)
            out += #","key":"#.utf8
            writeJSONString(line.archiveKey, to: &out)
            if let object = line.objectKey {
                out += #","object":"#.utf8
                writeJSONString(object, to: &out)
            }
            out += #","deleted_at":""#.utf8
            let time = line.deletedAt
            for (value, width, separator) in [(time.year, 4, 0x2D), (time.month, 2, 0x2D), (time.day, 2, 0x54), (time.hour, 2, 0x3A), (time.minute, 2, 0x3A),
                                              (time.second, 2, 0x5A)] as [(Int, Int, UInt8)] {
                var divisor = width == 4 ? 1000 : 10
                while divisor > 0 {
                    out.append(0x30 + UInt8(value / divisor % 10))
                    divisor /= 10
                }
                out.append(separator)
            }
            out += "\"}\n".utf8
        }
        return out
    }

    /// The deletion time an archive key names (`YYYY/MM/DD/<item>.HHMMSS.<sequence>.<kind>.json.gz`), read from its
    /// bytes; nil when it is not one.
    static func deletionTime(of key: String) -> DeletionTime? {
        var key = key
        let fast: DeletionTime? = key.withUTF8 { b -> DeletionTime? in
            let suffix = ArchiveKey.suffix.utf8.count
            guard b.count > 11 + suffix, b[4] == 0x2F, b[7] == 0x2F, b[10] == 0x2F else { return nil }
            func number(_ range: Range<Int>) -> Int? {
                var value = 0
                for index in range {
                    guard b[index] &- 0x30 < 10 else { return nil }
                    value = value * 10 + Int(b[index] &- 0x30)
                }
                return value
            }
            // The third '.' from the end of the name (before the suffix) starts the time.
            var dots: [Int] = []
            var index = b.count - suffix - 1
            while index > 10, dots.count < 3 {
                if b[index] == 0x2E { dots.append(index) }
                if b[index] == 0x2F { return nil }
                index -= 1
            }
            guard dots.count == 3, dots[1] - dots[2] == 7, let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
                  let clock = number((dots[2] + 1)..<dots[1]), (1...12).contains(month), (1...31).contains(day) else { return nil }
            let (hour, minute, second) = (clock / 10_000, clock / 100 % 100, clock % 100)
            guard hour < 24, minute < 60, second < 60 else { return nil }
            return DeletionTime(epochSeconds: DeletionTime.days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second))
        }
        // A key the quick read cannot take is read as `ArchiveKey` reads it.
        return fast ?? ArchiveKey(path: key)?.time
    }

    /// Reads an object's bytes.
    /// - Throws: ``SubjectIndexObjectError`` when they are not an index object this archiver reads.
    public static func read(_ bytes: [UInt8], key: String) throws -> Contents {
        let (text, keyID, lines) = try opened(bytes, key: key)
        return Contents(keyID: keyID, lines: try lines.map { try line(text[$0], key: key) })
    }

    /// An object read for one subject: its text, its record lines as written, and which of them name the subject.
    public struct Scan: Sendable {
        public var keyID: String
        var text: [UInt8]
        /// Each record line's bytes in `text` (without its newline).
        var lines: [Range<Int>]
        /// The indices in `lines` of those naming the subject, in order.
        public var named: [Int]
        /// Record lines.
        public var count: Int { lines.count }
    }

    /// Reads an object's bytes for the lines naming `subject` (an HMAC in hex) without decoding the others: a line as
    /// this archiver writes it (`{"subject":"<64 hex digits>",…`) is told by those digits, any other is decoded.
    /// - Throws: ``SubjectIndexObjectError`` when they are not an index object this archiver reads, or a line that
    ///   must be decoded is not an entry.
    public static func scan(_ bytes: [UInt8], key: String, subject: String) throws -> Scan {
        let (text, keyID, lines) = try opened(bytes, key: key)
        let wanted = Array(subject.lowercased().utf8)
        let lead = Array(#"{"subject":""#.utf8)
        var named: [Int] = []
        var others: [Int] = []
        text.withUnsafeBufferPointer { b in
            for (index, range) in lines.enumerated() {
                let start = range.lowerBound
                let digits = start + lead.count
                let own = wanted.count == 64 && range.count > lead.count + 64 && b[digits + 64] == 0x22
                    && (0..<lead.count).allSatisfy { b[start + $0] == lead[$0] }
                if !own {
                    others.append(index)
                } else if (0..<64).allSatisfy({ lowerHex(b[digits + $0]) == wanted[$0] }) {
                    named.append(index)
                }
            }
        }
        // Lines in another shape are decoded (one that is not an entry is an error, as for a rebuild).
        if !others.isEmpty {
            for index in others where try line(text[lines[index]], key: key).subject == subject.lowercased() { named.append(index) }
            named.sort()
        }
        return Scan(keyID: keyID, text: text, lines: lines, named: named)
    }

    private static func lowerHex(_ byte: UInt8) -> UInt8 { byte >= 0x41 && byte <= 0x46 ? byte | 0x20 : byte }

    /// An object's text, its header's key id, and its record lines' ranges.
    private static func opened(_ bytes: [UInt8], key: String) throws -> (text: [UInt8], keyID: String, lines: [Range<Int>]) {
        guard let text = try? gunzip(bytes, maximumBytes: maximumBytes) else {
            throw SubjectIndexObjectError("the subject index object \(key) is not gzip (or is larger than \(maximumBytes >> 20) MiB uncompressed); move it aside, `index rebuild --scan-records` reads the records instead")
        }
        var lines: [Range<Int>] = []
        var start = 0
        text.withUnsafeBufferPointer { b in
            while start < b.count {
                var end = start
                while end < b.count && b[end] != 0x0A { end += 1 }
                if end > start { lines.append(start..<end) }
                start = end + 1
            }
        }
        guard let first = lines.first, let header = try? JSONValue.parse(Array(text[first])),
              case .number(let versionText)? = header["archiver_subject_index"], let version = Int(versionText), let keyID = header["key_id"]?.stringValue else {
            throw SubjectIndexObjectError("\(key) has no subject index header; move it aside if it is not one")
        }
        guard version == Self.version else {
            throw SubjectIndexObjectError("\(key) is a subject index object of version \(version), which this archiver does not read (written by a newer archiver?)")
        }
        return (text, keyID, Array(lines.dropFirst()))
    }

    /// A record line decoded.
    private static func line(_ bytes: ArraySlice<UInt8>, key: String) throws -> Line {
        guard let value = try? JSONValue.parse(Array(bytes)), let subject = value["subject"]?.stringValue, SubjectID(hex: subject) != nil,
              let archiveKey = value["key"]?.stringValue, let parsed = ArchiveKey(path: archiveKey) else {
            throw SubjectIndexObjectError("\(key) holds a line that is not a subject index entry; move it aside, `index rebuild --scan-records` reads the records instead")
        }
        return Line(subject: subject.lowercased(), archiveKey: archiveKey, objectKey: value["object"]?.stringValue, deletedAt: parsed.time)
    }
}

/// A subject index object that cannot be read, or was written with another subject key.
public struct SubjectIndexObjectError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension SubjectKey {
    /// What names the key in the archive's index objects: the first 16 hex digits of the SHA-256 of a fixed label and
    /// the key (the key cannot be worked back from it).
    public var id: String {
        var hasher = SHA256()
        hasher.update(data: Array("archiver subject key id\n".utf8))
        hasher.update(data: bytes)
        return hexPrefix(hasher.finalize(), 16)
    }
}
