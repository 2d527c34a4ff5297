import JSONToolkit

/// One record of a batched object, as its index lists it.
public struct BatchIndexEntry: Sendable, Equatable {
    /// The record's key as a per-record object (`2024/01/15/USER#123_PROFILE.103000.1100….manual.json.gz`):
    /// what `ls` prints and `restore` takes.
    public var key: String
    /// The item key as it stands in `key`.
    public var item: String
    public var kind: DeletionKind
    /// The deletion's event time, `2024-01-15T10:30:00Z`.
    public var deletedAt: String
    /// The sequence part of `key`.
    public var sequence: String
    /// Where the record's gzip member starts in the object, and its length: exactly the bytes a per-record
    /// archive holds for this record.
    public var offset: Int64
    public var length: Int64

    public init(key: String, item: String, kind: DeletionKind, deletedAt: String, sequence: String, offset: Int64, length: Int64) {
        self.key = key
        self.item = item
        self.kind = kind
        self.deletedAt = deletedAt
        self.sequence = sequence
        self.offset = offset
        self.length = length
    }

    /// The member's bytes within the object.
    public var range: Range<Int64> { offset..<(offset + length) }
}

/// The index of a batched object: a gzip of JSON lines, a header and one line per record in the object's order.
///
///     {"archiver_index":1,"object":"2024/01/15/103000-104459.2r.….jsonl.gz","object_bytes":1299,"records":2}
///     {"key":"2024/01/15/USER#1_P.103000.11.manual.json.gz","item":"USER#1_P","kind":"manual","deleted_at":"2024-01-15T10:30:00Z","sequence":"11","offset":0,"length":628}
///     …
///
/// `zcat … | jq` reads it. The index is the switch of its object: archiver finds records only through indexes, so
/// an object becomes visible when its index is written (after the object), and a rewritten object replaces the
/// old one the moment its index is replaced.
public struct BatchIndex: Sendable, Equatable {
    /// The data object's key.
    public var object: String
    public var objectBytes: Int64
    public var entries: [BatchIndexEntry]
    /// For an object rewritten without some records: the object it replaced, deleted after this index is written
    /// (and again, harmlessly, by any later rewrite, in case that deletion was cut short).
    public var replaces: String?

    public static let version = 1

    public init(object: String, objectBytes: Int64, entries: [BatchIndexEntry], replaces: String? = nil) {
        self.object = object
        self.objectBytes = objectBytes
        self.entries = entries
        self.replaces = replaces
    }

    /// The index's bytes: gzip, one member per MiB or so of lines (`gunzip` reads them as one text), so the text
    /// is never held whole however many records the object has.
    public func encoded(gzipLevel: Int = GzipEncoder.defaultLevel) -> [UInt8] {
        var text = IndexText(object: object, objectBytes: objectBytes, records: entries.count, replaces: replaces, gzipLevel: gzipLevel)
        for entry in entries {
            text.append(key: entry.key, item: entry.item, kind: entry.kind, deletedAt: entry.deletedAt, sequence: entry.sequence,
                        offset: entry.offset, length: entry.length)
        }
        return text.finished()
    }

    static let chunk = 1 << 20

    /// Reads an index (`key` names it in errors).
    /// - Throws: `BatchIndexError` saying what is wrong with it.
    public static func decode(_ bytes: [UInt8], key: String) throws -> BatchIndex {
        let text: [UInt8]
        do {
            text = try gunzip(bytes)
        } catch {
            throw BatchIndexError("the index \(key) is not readable gzip: \(error)")
        }
        var lines = text.split(separator: 0x0A, omittingEmptySubsequences: true).makeIterator()
        guard let first = lines.next(), let header = try? JSONValue.parse(Array(first)),
            header["archiver_index"] == .number("1"), let object = header["object"]?.stringValue,
            case .number(let sizeText)? = header["object_bytes"], let size = Int64(sizeText),
            case .number(let countText)? = header["records"], let count = Int(countText)
        else { throw BatchIndexError("the index \(key) has no archiver_index 1 header; it was not written by this archiver") }
        var entries: [BatchIndexEntry] = []
        entries.reserveCapacity(count)
        var number = 1
        while let line = lines.next() {
            number += 1
            guard let value = try? JSONValue.parse(Array(line)),
                let recordKey = value["key"]?.stringValue, let item = value["item"]?.stringValue,
                let kind = value["kind"]?.stringValue.flatMap(DeletionKind.init(rawValue:)),
                let deletedAt = value["deleted_at"]?.stringValue, let sequence = value["sequence"]?.stringValue,
                case .number(let offsetText)? = value["offset"], let offset = Int64(offsetText),
                case .number(let lengthText)? = value["length"], let length = Int64(lengthText),
                offset >= 0, length > 0, offset + length <= size
            else { throw BatchIndexError("line \(number) of the index \(key) is not a record entry") }
            entries.append(BatchIndexEntry(key: recordKey, item: item, kind: kind, deletedAt: deletedAt, sequence: sequence, offset: offset, length: length))
        }
        guard entries.count == count else {
            throw BatchIndexError("the index \(key) lists \(entries.count) records, its header says \(count)")
        }
        return BatchIndex(object: object, objectBytes: size, entries: entries, replaces: header["replaces"]?.stringValue)
    }
}

/// An index that cannot be read. Names it.
public struct BatchIndexError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The parts of a per-record key (`2024/01/15/<item>.<HHMMSS>.<sequence>.<kind>.json.gz`) that a batched object
/// needs, read from its bytes without building an `ArchiveKey`: the hot path does this once per record.
struct RecordKeyParts {
    let key: String
    /// Byte offsets into the key: the item key, the sequence.
    let item: Range<Int>
    let sequence: Range<Int>
    let secondsOfDay: Int
    /// The date as a number, `20240115`.
    let dayNumber: Int

    init?(_ key: String) {
        var key = key
        guard let parts = key.withUTF8({ Self.parse($0) }) else { return nil }
        self.key = key
        (item, sequence, secondsOfDay, dayNumber) = parts
    }

    /// The item range, the sequence range, the seconds after midnight and the date as a number, or nil when the
    /// bytes are not a per-record key.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (Range<Int>, Range<Int>, Int, Int)? {
        let suffix = 8  // ".json.gz"
        let count = bytes.count
        guard count > 11 + suffix, bytes[10] == UInt8(ascii: "/"), bytes[4] == UInt8(ascii: "/"), bytes[7] == UInt8(ascii: "/"),
            bytes[count - suffix] == UInt8(ascii: "."), bytes[count - 3] == UInt8(ascii: "."), bytes[count - 1] == UInt8(ascii: "z")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for j in range {
                let digit = Int(bytes[j]) - 0x30
                guard digit >= 0 && digit <= 9 else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
        // From the end: .<kind>, .<sequence>, .<HHMMSS>; the rest is the item key.
        var dots = (0, 0, 0)
        var found = 0
        var i = count - suffix
        while found < 3 && i > 11 {
            i -= 1
            if bytes[i] == UInt8(ascii: ".") {
                switch found {
                case 0: dots.0 = i
                case 1: dots.1 = i
                default: dots.2 = i
                }
                found += 1
            }
        }
        guard found == 3, dots.1 - dots.2 == 7, let value = number((dots.2 + 1)..<dots.1) else { return nil }
        let (h, m, s) = (value / 10_000, value / 100 % 100, value % 100)
        guard h < 24, m < 60, s < 60 else { return nil }
        return (11..<dots.2, (dots.1 + 1)..<dots.0, h * 3600 + m * 60 + s, year * 10_000 + month * 100 + day)
    }

    /// `2024/01/15`.
    var day: String { String(decoding: key.utf8.prefix(10), as: UTF8.self) }
}

/// An index's text as it is written, a line at a time, compressed a MiB at a time.
struct IndexText {
    private let encoder: GzipEncoder
    private var out: [UInt8] = []
    private var result: [UInt8] = []

    init(object: String, objectBytes: Int64, records: Int, replaces: String?, gzipLevel: Int) {
        encoder = GzipEncoder(level: gzipLevel)
        out.reserveCapacity(BatchIndex.chunk + 4096)
        var header = JSONObjectWriter()
        header.int("archiver_index", BatchIndex.version)
        header.string("object", object)
        header.int("object_bytes", Int(objectBytes))
        header.int("records", records)
        if let replaces { header.string("replaces", replaces) }
        out += header.finished()
        out.append(0x0A)
    }

    /// One record's line.
    mutating func append(key: String, item: String, kind: DeletionKind, deletedAt: String, sequence: String, offset: Int64, length: Int64) {
        var key = key
        var item = item
        var deletedAt = deletedAt
        var sequence = sequence
        key.withUTF8 { keyBytes in
            item.withUTF8 { itemBytes in
                deletedAt.withUTF8 { dateBytes in
                    sequence.withUTF8 { sequenceBytes in
                        append(key: keyBytes, item: itemBytes, kind: kind, deletedAt: dateBytes, sequence: sequenceBytes, offset: offset, length: length)
                    }
                }
            }
        }
    }

    /// One record's line, from a per-record key's bytes.
    mutating func append(key bytes: UnsafeBufferPointer<UInt8>, parts: (item: Range<Int>, sequence: Range<Int>, seconds: Int), kind: DeletionKind,
                         offset: Int64, length: Int64) {
        var date: [UInt8] = Array(bytes[0..<10])
        date[4] = UInt8(ascii: "-")
        date[7] = UInt8(ascii: "-")
        date.append(UInt8(ascii: "T"))
        func two(_ value: Int) { date.append(UInt8(0x30 + value / 10)); date.append(UInt8(0x30 + value % 10)) }
        two(parts.seconds / 3600)
        date.append(UInt8(ascii: ":"))
        two(parts.seconds / 60 % 60)
        date.append(UInt8(ascii: ":"))
        two(parts.seconds % 60)
        date.append(UInt8(ascii: "Z"))
        date.withUnsafeBufferPointer { dateBytes in
            append(key: bytes, item: UnsafeBufferPointer(rebasing: bytes[parts.item]), kind: kind, deletedAt: dateBytes,
                   sequence: UnsafeBufferPointer(rebasing: bytes[parts.sequence]), offset: offset, length: length)
        }
    }

    private mutating func append(key: UnsafeBufferPointer<UInt8>, item: UnsafeBufferPointer<UInt8>, kind: DeletionKind, deletedAt: UnsafeBufferPointer<UInt8>,
                                 sequence: UnsafeBufferPointer<UInt8>, offset: Int64, length: Int64) {
        out += #"{"key":"#.utf8
        string(key)
        out += #","item":"#.utf8
        string(item)
        out += kind == .ttl ? #","kind":"ttl","deleted_at":"#.utf8 : #","kind":"manual","deleted_at":"#.utf8
        string(deletedAt)
        out += #","sequence":"#.utf8
        string(sequence)
        out += #","offset":"#.utf8
        out += String(offset).utf8
        out += #","length":"#.utf8
        out += String(length).utf8
        out += "}\n".utf8
        if out.count >= BatchIndex.chunk {
            result += encoder.compress(out)
            out.removeAll(keepingCapacity: true)
        }
    }

    /// A JSON string of UTF-8 bytes: as they are when nothing in them needs escaping (keys never do), else escaped.
    private mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) {
        var plain = true
        for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C
            || (byte == 0xE2 && i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9)) {
            plain = false
            break
        }
        if plain {
            out.append(0x22)
            out += bytes
            out.append(0x22)
        } else {
            writeJSONString(String(decoding: bytes, as: UTF8.self), to: &out)
        }
    }

    mutating func finished() -> [UInt8] {
        if !out.isEmpty {
            result += encoder.compress(out)
            out.removeAll()
        }
        return result
    }
}
