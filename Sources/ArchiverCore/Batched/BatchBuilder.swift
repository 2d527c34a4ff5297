/// A batched object being filled: the records' gzip members, each followed by a gzip member holding a newline
/// (so `gunzip -c` prints JSON lines), and what its index will say.
///
/// A record's member is exactly the per-record layout's object for that record: the same encoder, level and
/// fixed header. Its bytes are appended to one buffer reserved at the largest object size; only the pages
/// written count in memory.
final class BatchBuilder {
    /// `2024/01/15`: every record's day.
    let day: String
    /// The window of the last record added.
    private(set) var lastWindow: Int
    /// When the first record was added (wall clock), for `flushAfter`.
    let openedAt: Double
    private(set) var body: [UInt8] = []
    private(set) var keys: [String] = []
    private var kinds: [DeletionKind] = []
    private var offsets: [Int64] = []
    private var lengths: [Int32] = []
    private(set) var first = Int.max
    private(set) var last = Int.min
    private(set) var ttl = 0
    /// Where each record came from, for dead letters if the store refuses the object.
    private var positions: [String] = []
    private var files: [(from: Int, file: SourceFile?)] = []
    private let newline: [UInt8]

    init(day: String, window: Int, openedAt: Double, newline: [UInt8], reserve: Int) {
        self.day = day
        self.lastWindow = window
        self.openedAt = openedAt
        self.newline = newline
        body.reserveCapacity(reserve)
    }

    var count: Int { keys.count }
    var bytes: Int { body.count }

    /// The size the object would have with one more member of `length` bytes.
    func bytes(adding length: Int) -> Int { body.count + length + newline.count }

    func append(member: [UInt8], key: String, secondsOfDay: Int, window: Int, kind: DeletionKind, position: String, file: SourceFile?) {
        offsets.append(Int64(body.count))
        lengths.append(Int32(member.count))
        body.append(contentsOf: member)
        body.append(contentsOf: newline)
        keys.append(key)
        kinds.append(kind)
        if kind == .ttl { ttl += 1 }
        first = min(first, secondsOfDay)
        last = max(last, secondsOfDay)
        lastWindow = window
        positions.append(position)
        if files.last.map({ $0.file != file }) ?? true { files.append((keys.count - 1, file)) }
    }

    /// The object's name.
    var name: BatchedObjectName {
        BatchedObjectName(datePath: day, first: first, last: last, records: count, id: BatchedObjectName.id(ofKeys: keys))
    }

    /// The index entries.
    func entries() -> [BatchIndexEntry] {
        keys.indices.map { i in
            let parts = RecordKeyParts(keys[i])
            return BatchIndexEntry(
                key: keys[i], item: parts.map { String($0.item) } ?? "", kind: kinds[i], deletedAt: parts?.deletedAt ?? "",
                sequence: parts.map { String($0.sequence) } ?? "", offset: offsets[i], length: Int64(lengths[i]))
        }
    }

    /// The data object and its index, ready to write (data first: the index makes it visible).
    func finish(gzipLevel: Int) -> BatchedObject {
        let name = self.name
        let index = BatchIndex(object: name.dataKey, objectBytes: Int64(body.count), entries: entries())
        return BatchedObject(
            name: name,
            data: ArchiveObject(key: name.dataKey, body: body, metadata: ["archiver-layout": "batched", "archiver-records": "\(count)"]),
            index: ArchiveObject(key: name.indexKey, body: index.encoded(gzipLevel: gzipLevel), metadata: ["archiver-layout": "batched-index"]),
            records: count, ttl: ttl)
    }

    /// Each record's bytes (decompressed from its member), position and file: for dead letters.
    func records() -> [(raw: [UInt8], position: String, file: SourceFile?)] {
        var fileIndex = 0
        return keys.indices.map { i in
            while fileIndex + 1 < files.count && files[fileIndex + 1].from <= i { fileIndex += 1 }
            let member = Array(body[Int(offsets[i])..<(Int(offsets[i]) + Int(lengths[i]))])
            return ((try? gunzip(member)) ?? member, positions[i], files.isEmpty ? nil : files[fileIndex].file)
        }
    }
}

extension BatchLimits {
    /// Whether `open` must be closed before a record of `length` member bytes on `day` in `window`.
    func mustCut(_ open: BatchBuilder, day: Substring, window: Int, length: Int) -> Bool {
        open.day != day || open.count >= maxRecords || open.bytes(adding: length) > maxBytes
            || (window != open.lastWindow && open.bytes >= minBytes)
    }

    /// Cuts records (each a per-record object: key and gzip member, in the order given) into batched objects,
    /// as a tail does.
    func objects(_ records: [(object: ArchiveObject, kind: DeletionKind)], gzipLevel: Int) -> [(object: BatchedObject, members: [Int])] {
        let newline = newlineMember(gzipLevel: gzipLevel)
        var result: [(object: BatchedObject, members: [Int])] = []
        var open: BatchBuilder?
        var members: [Int] = []
        for (i, record) in records.enumerated() {
            guard let parts = RecordKeyParts(record.object.key) else { continue }
            let window = parts.secondsOfDay / self.window
            if let current = open, mustCut(current, day: parts.day, window: window, length: record.object.body.count) {
                result.append((current.finish(gzipLevel: gzipLevel), members))
                open = nil
                members = []
            }
            if open == nil { open = BatchBuilder(day: String(parts.day), window: window, openedAt: 0, newline: newline, reserve: 0) }
            open!.append(member: record.object.body, key: record.object.key, secondsOfDay: parts.secondsOfDay, window: window, kind: record.kind,
                         position: "", file: nil)
            members.append(i)
        }
        if let open { result.append((open.finish(gzipLevel: gzipLevel), members)) }
        return result
    }
}

/// A closed batched object: its data and index objects, and how many records (TTL among them) it holds.
struct BatchedObject: Sendable {
    let name: BatchedObjectName
    let data: ArchiveObject
    let index: ArchiveObject
    let records: Int
    let ttl: Int
}

/// The gzip member holding one newline that follows each record's member: the fixed header, one fixed-Huffman
/// deflate block of the literal 0x0A (`e3 02 00`), CRC-32 0x32d70693 and length 1. 21 bytes, the same at every level.
public let gzipNewlineMember: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03, 0xE3, 0x02, 0x00, 0x93, 0x06, 0xD7, 0x32, 0x01, 0, 0, 0]

func newlineMember(gzipLevel: Int) -> [UInt8] { gzipNewlineMember }
