/// A batched object being filled: the records' gzip members, each followed by a gzip member holding a newline
/// (so `gunzip -c` prints JSON lines), and what its index will say.
///
/// A record's member is exactly the per-record layout's object for that record: the same encoder, level and
/// fixed header. Its bytes are appended to one buffer reserved at the largest object size; only the pages
/// written count in memory.
final class BatchBuilder {
    /// `2024/01/15`: every record's day; and as a number, `20240115`.
    let day: String
    let dayNumber: Int
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
    private var places: [RecordPlace] = []
    private var files: [(from: Int, file: SourceFile?)] = []
    private var fileBatch = -1
    private let newline: [UInt8]
    /// The deletion-queue entries the rules planned for its records: queued with the checkpoint that follows the
    /// object's write, as a per-record batch's are with its own.
    var planned: [PlannedEntry] = []
    /// Its records' subjects (archive key, subject HMAC): indexed, with the object's index key, in the same transaction.
    var subjects: [(key: String, hmac: String)] = []

    /// - Parameter buffer: an empty buffer to fill (one a written object gave back, its pages already mapped), or nil.
    init(day: String, dayNumber: Int, window: Int, openedAt: Double, newline: [UInt8], reserve: Int, buffer: [UInt8]? = nil) {
        self.day = day
        self.dayNumber = dayNumber
        self.lastWindow = window
        self.openedAt = openedAt
        self.newline = newline
        if let buffer, buffer.isEmpty, buffer.capacity >= reserve { body = buffer } else { body.reserveCapacity(reserve) }
    }

    /// Gives the body's buffer back, emptied, once the object is written (nothing else holds it then).
    func takeBuffer() -> [UInt8] {
        var buffer: [UInt8] = []
        swap(&buffer, &body)
        buffer.removeAll(keepingCapacity: true)
        return buffer
    }

    var count: Int { keys.count }
    var bytes: Int { body.count }

    /// The size the object would have with one more member of `length` bytes.
    func bytes(adding length: Int) -> Int { body.count + length + newline.count }

    /// Adds a record; `batch` numbers the source batch it came in, so its file is compared once per batch.
    func append(member: [UInt8], key: String, secondsOfDay: Int, window: Int, kind: DeletionKind, place: RecordPlace, batch: Int, file: SourceFile?) {
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
        places.append(place)
        if batch != fileBatch {
            fileBatch = batch
            if files.last.map({ $0.file != file }) ?? true { files.append((keys.count - 1, file)) }
        }
    }

    /// The object's name.
    var name: BatchedObjectName {
        BatchedObjectName(datePath: day, first: first, last: last, records: count, id: BatchedObjectName.id(ofKeys: keys))
    }

    /// The data object and its index, ready to write (data first: the index makes it visible).
    func finish(gzipLevel: Int) -> BatchedObject {
        let name = self.name
        var text = IndexText(object: name.dataKey, objectBytes: Int64(body.count), records: count, replaces: nil, gzipLevel: gzipLevel)
        // The lowest and highest sequence numbers, for the state folder's catalogue (nil once one is not a number).
        var low: [UInt8] = []
        var high: [UInt8] = []
        var numeric = true
        for i in keys.indices {
            var key = keys[i]
            key.withUTF8 { bytes in
                guard let parts = RecordKeyParts.parse(bytes) else { return }
                text.append(key: bytes, parts: (parts.0, parts.1, parts.2), kind: kinds[i], offset: offsets[i], length: Int64(lengths[i]))
                guard numeric else { return }
                let sequence = bytes[parts.1]
                guard !sequence.isEmpty, sequence.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { numeric = false; return }
                if low.isEmpty || BatchCatalogue.less(sequence, low) { low = Array(sequence) }
                if high.isEmpty || BatchCatalogue.less(high, sequence) { high = Array(sequence) }
            }
        }
        let (firstSequence, lastSequence) = numeric ? (BatchCatalogue.padded(low), BatchCatalogue.padded(high)) : (nil, nil)
        return BatchedObject(
            name: name,
            data: ArchiveObject(key: name.dataKey, body: body, metadata: ["archiver-layout": "batched", "archiver-records": "\(count)"]),
            index: ArchiveObject(key: name.indexKey, body: text.finished(), metadata: ["archiver-layout": "batched-index"]),
            records: count, ttl: ttl,
            catalogue: CatalogueRow(indexKey: name.indexKey, day: day, first: first, last: last,
                                    firstSequence: lastSequence == nil ? nil : firstSequence, lastSequence: firstSequence == nil ? nil : lastSequence))
    }

    /// Each record's bytes (decompressed from its member), position and file: for dead letters.
    func records() -> [(raw: [UInt8], position: String, file: SourceFile?)] {
        var fileIndex = 0
        return keys.indices.map { i in
            while fileIndex + 1 < files.count && files[fileIndex + 1].from <= i { fileIndex += 1 }
            let member = Array(body[Int(offsets[i])..<(Int(offsets[i]) + Int(lengths[i]))])
            return ((try? gunzip(member)) ?? member, places[i].description, files.isEmpty ? nil : files[fileIndex].file)
        }
    }
}

extension BatchLimits {
    /// Whether `open` must be closed before a record of `length` member bytes on day `dayNumber` in `window`.
    func mustCut(_ open: BatchBuilder, dayNumber: Int, window: Int, length: Int) -> Bool {
        open.dayNumber != dayNumber || open.count >= maxRecords || open.bytes(adding: length) > maxBytes
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
            if let current = open, mustCut(current, dayNumber: parts.dayNumber, window: window, length: record.object.body.count) {
                result.append((current.finish(gzipLevel: gzipLevel), members))
                open = nil
                members = []
            }
            if open == nil { open = BatchBuilder(day: parts.day, dayNumber: parts.dayNumber, window: window, openedAt: 0, newline: newline, reserve: 0) }
            open!.append(member: record.object.body, key: record.object.key, secondsOfDay: parts.secondsOfDay, window: window, kind: record.kind,
                         place: .label("dead letter \(i + 1)"), batch: 0, file: nil)
            members.append(i)
        }
        if let open { result.append((open.finish(gzipLevel: gzipLevel), members)) }
        return result
    }
}

/// Where a record stands in its source, kept cheaply until a dead letter needs it in words.
enum RecordPlace: CustomStringConvertible {
    case line(Int, byte: Int64)
    case label(String)

    /// The place of record `index` of `batch`, as `SourceBatch.position(of:)` words it.
    init(_ batch: SourceBatch, _ index: Int) {
        switch batch.positions {
        case .lines(let firstLine, let baseOffset, let lineNumbers):
            self = .line(lineNumbers.isEmpty ? firstLine + index : lineNumbers[index], byte: baseOffset + Int64(batch.records[index].lowerBound))
        case .labels(let labels):
            self = .label(labels[index])
        }
    }

    var description: String {
        switch self {
        case .line(let line, let byte): "line \(line) (byte \(byte))"
        case .label(let label): label
        }
    }
}

/// A closed batched object: its data and index objects, and how many records (TTL among them) it holds.
struct BatchedObject: Sendable {
    let name: BatchedObjectName
    let data: ArchiveObject
    let index: ArchiveObject
    let records: Int
    let ttl: Int
    /// Its row in the state folder's catalogue.
    let catalogue: CatalogueRow
}

/// The gzip member holding one newline that follows each record's member: the fixed header, one fixed-Huffman
/// deflate block of the literal 0x0A (`e3 02 00`), CRC-32 0x32d70693 and length 1. 21 bytes, the same at every level.
public let gzipNewlineMember: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03, 0xE3, 0x02, 0x00, 0x93, 0x06, 0xD7, 0x32, 0x01, 0, 0, 0]

func newlineMember(gzipLevel: Int) -> [UInt8] { gzipNewlineMember }
