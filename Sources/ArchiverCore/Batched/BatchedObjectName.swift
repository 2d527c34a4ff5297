import Crypto

/// The names of a batched object and of its index, relative to the archive root:
///
///     2024/01/15/103000-104459.1234r.3f2a9c0e5b7d1a46.jsonl.gz      the records, one gzip member each
///     2024/01/15/_103000-104459.3f2a9c0e5b7d1a46.index.gz           the index (gzip JSON lines)
///     └─ date ─┘ └first┘ └last┘ └n┘  └──── id ─────┘
///
/// - The date is the UTC day of every record in the object; `first` and `last` are the earliest and latest
///   deletion times (HHMMSS), so `restore <key>` finds the objects that can hold a key from a listing of the day.
/// - The id is the first 16 hex digits of the SHA-256 of the records' keys (the names they would have as
///   per-record objects), in order: derived from the records only, so a replay writes the same name.
/// - The index keeps the object's first name for good. An object rewritten without some records (erasure) gets
///   a new name with a generation (`…​.<id>.<generation>.jsonl.gz`); its index, rewritten in place, points to it.
/// - Index names start with `_`, which Hive-style readers (Athena, Spark) skip, and end in `.index.gz`, not
///   `.jsonl.gz`, so a glob over the records does not pick them up.
public struct BatchedObjectName: Sendable, Hashable, CustomStringConvertible {
    /// `2024/01/15`.
    public var datePath: String
    /// Seconds after midnight UTC of the earliest and latest record.
    public var first: Int
    public var last: Int
    /// Records in the data object (0 in a name read from an index key).
    public var records: Int
    /// 16 hex digits.
    public var id: String
    /// 8 hex digits for a rewritten object, nil for the object as the tail wrote it.
    public var generation: String?

    public static let dataSuffix = ".jsonl.gz"
    public static let indexSuffix = ".index.gz"

    public init(datePath: String, first: Int, last: Int, records: Int, id: String, generation: String? = nil) {
        self.datePath = datePath
        self.first = first
        self.last = last
        self.records = records
        self.id = id
        self.generation = generation
    }

    var range: String { "\(Self.compact(first))-\(Self.compact(last))" }

    /// The data object's key.
    public var dataKey: String {
        "\(datePath)/\(range).\(records)r.\(id)\(generation.map { "." + $0 } ?? "")\(Self.dataSuffix)"
    }

    /// The index's key (no record count, no generation: it stays put when the object is rewritten).
    public var indexKey: String { "\(datePath)/_\(range).\(id)\(Self.indexSuffix)" }

    public var description: String { dataKey }

    /// The id of records with these keys, in this order.
    public static func id(ofKeys keys: some Sequence<String>) -> String {
        var hasher = SHA256()
        let newline: [UInt8] = [0x0A]
        for var key in keys {
            key.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
            newline.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        }
        return hexPrefix(hasher.finalize(), 16)
    }

    /// `103000` for 37800.
    static func compact(_ secondsOfDay: Int) -> String {
        pad(secondsOfDay / 3600, 2) + pad(secondsOfDay / 60 % 60, 2) + pad(secondsOfDay % 60, 2)
    }

    static func seconds(_ compact: Substring) -> Int? {
        guard compact.utf8.count == 6, compact.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(compact) else { return nil }
        let (h, m, s) = (value / 10_000, value / 100 % 100, value % 100)
        guard h < 24, m < 60, s < 60 else { return nil }
        return h * 3600 + m * 60 + s
    }

    /// Reads a data object's key; nil for anything else.
    public init?(dataKey key: String) {
        guard key.hasSuffix(Self.dataSuffix), let (datePath, name) = Self.split(key), !name.hasPrefix("_") else { return nil }
        let parts = name.dropLast(Self.dataSuffix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, let (first, last) = Self.range(parts[0]),
            parts[1].hasSuffix("r"), let records = Int(parts[1].dropLast()), records > 0, Self.isHex(parts[2], 16)
        else { return nil }
        if parts.count == 4 && !Self.isHex(parts[3], 8) { return nil }
        self.init(datePath: datePath, first: first, last: last, records: records, id: String(parts[2]),
                  generation: parts.count == 4 ? String(parts[3]) : nil)
    }

    /// Reads an index's key; nil for anything else. `records` is 0 and `generation` nil: the index says the rest.
    public init?(indexKey key: String) {
        guard key.hasSuffix(Self.indexSuffix), let (datePath, name) = Self.split(key), name.hasPrefix("_") else { return nil }
        let parts = name.dropFirst().dropLast(Self.indexSuffix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let (first, last) = Self.range(parts[0]), Self.isHex(parts[1], 16) else { return nil }
        self.init(datePath: datePath, first: first, last: last, records: 0, id: String(parts[1]))
    }

    /// Whether `key` names a batched object or an index.
    public static func isBatched(_ key: String) -> Bool {
        BatchedObjectName(indexKey: key) != nil || BatchedObjectName(dataKey: key) != nil
    }

    private static func split(_ key: String) -> (String, Substring)? {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count == 4, segments[0].utf8.count == 4, segments[1].utf8.count == 2, segments[2].utf8.count == 2,
            segments[0...2].allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } })
        else { return nil }
        return (segments[0...2].joined(separator: "/"), segments[3])
    }

    private static func range(_ text: Substring) -> (Int, Int)? {
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard bounds.count == 2, let first = seconds(bounds[0]), let last = seconds(bounds[1]), first <= last else { return nil }
        return (first, last)
    }

    private static func isHex(_ text: Substring, _ count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }
}
