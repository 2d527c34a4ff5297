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
        let encoder = GzipEncoder(level: gzipLevel)
        var result: [UInt8] = []
        var out: [UInt8] = []
        out.reserveCapacity(Self.chunk + 4096)
        var header = JSONObjectWriter()
        header.int("archiver_index", Self.version)
        header.string("object", object)
        header.int("object_bytes", Int(objectBytes))
        header.int("records", entries.count)
        if let replaces { header.string("replaces", replaces) }
        out += header.finished()
        out.append(0x0A)
        for entry in entries {
            var line = JSONObjectWriter()
            line.string("key", entry.key)
            line.string("item", entry.item)
            line.string("kind", entry.kind.rawValue)
            line.string("deleted_at", entry.deletedAt)
            line.string("sequence", entry.sequence)
            line.int("offset", Int(entry.offset))
            line.int("length", Int(entry.length))
            out += line.finished()
            out.append(0x0A)
            if out.count >= Self.chunk {
                result += encoder.compress(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        if !out.isEmpty { result += encoder.compress(out) }
        return result
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
    /// `2024/01/15`.
    let day: Substring
    let secondsOfDay: Int
    let item: Substring
    let sequence: Substring

    init?(_ key: String) {
        let utf8 = key.utf8
        guard utf8.count > 11 + ArchiveKey.suffix.utf8.count, key.hasSuffix(ArchiveKey.suffix) else { return nil }
        let nameEnd = utf8.index(utf8.endIndex, offsetBy: -ArchiveKey.suffix.utf8.count)
        let dayEnd = utf8.index(utf8.startIndex, offsetBy: 10)
        guard utf8[dayEnd] == UInt8(ascii: "/") else { return nil }
        // From the end: .<kind>, .<sequence>, .<HHMMSS>; the rest is the item key.
        var dots: [String.Index] = []
        var i = nameEnd
        while dots.count < 3 && i > dayEnd {
            i = utf8.index(before: i)
            if utf8[i] == UInt8(ascii: ".") { dots.append(i) }
        }
        guard dots.count == 3 else { return nil }
        let timeStart = utf8.index(after: dots[2])
        guard let seconds = BatchedObjectName.seconds(key[timeStart..<dots[1]]) else { return nil }
        day = key[key.startIndex..<dayEnd]
        secondsOfDay = seconds
        item = key[utf8.index(after: dayEnd)..<dots[2]]
        sequence = key[utf8.index(after: dots[1])..<dots[0]]
    }

    /// `2024-01-15T10:30:00Z`.
    var deletedAt: String {
        let date = String(day.map { $0 == "/" ? "-" : $0 })
        return "\(date)T\(pad(secondsOfDay / 3600, 2)):\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2))Z"
    }
}
