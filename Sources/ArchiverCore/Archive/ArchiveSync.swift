import Crypto
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// What a sync did.
public struct SyncSummary: Sendable, Codable, Equatable {
    public var objects = 0
    public var copied = 0
    public var skipped = 0
    public var bytes: Int64 = 0
    public var jsonlRecords = 0
    /// Objects of the month left out of the `--jsonl` file because they do not hold exactly one stream record
    /// (written by something else than archiver, damaged, or decompressing past the record limit); they are
    /// copied like the others.
    public var jsonlLeftOut: [LeftOutObject] = []
    public var seconds: Double = 0

    /// An object that is not in the `--jsonl` file, and why.
    public struct LeftOutObject: Sendable, Codable, Equatable {
        public var key: String
        public var problem: String

        public init(key: String, problem: String) {
            self.key = key
            self.problem = problem
        }
    }

    enum CodingKeys: String, CodingKey {
        case objects, copied, skipped, bytes, seconds
        case jsonlRecords = "jsonl_records"
        case jsonlLeftOut = "jsonl_left_out"
    }

    public init() {}

    public var text: String {
        var rows: [(String, String)] = [
            ("objects", "\(objects)"),
            ("copied", "\(copied)  (\(ByteSize.text(bytes)))"),
            ("already there", "\(skipped)"),
        ]
        if jsonlRecords > 0 { rows.append(("jsonl records", "\(jsonlRecords)")) }
        if !jsonlLeftOut.isEmpty {
            rows.append(("not in jsonl", "\(jsonlLeftOut.count)  (not one stream record each; copied all the same)"))
            for object in jsonlLeftOut { rows.append(("", "\(object.key): \(object.problem)")) }
        }
        rows.append(("time", String(format: "%.2f s", seconds)))
        return alignedRows(rows)
    }
}

/// Copies a month of deletions from an archive into a local folder with the same layout, skipping
/// objects already there and identical; optionally writes the month's records as one JSON-lines file.
public struct ArchiveSync: Sendable {
    public let source: any ArchiveStore
    public let destination: LocalArchiveStore
    /// Objects fetched at once.
    public var concurrency = 16
    /// The longest record written to the `--jsonl` file (the tail's `--max-record-bytes`): an object that
    /// decompresses to more is left out by key, never decompressed whole.
    public var maxRecordBytes = TailOptions.defaultMaxRecordBytes
    public var logger = Logger(label: "archiver.sync")

    public init(source: any ArchiveStore, destination: LocalArchiveStore) {
        self.source = source
        self.destination = destination
    }

    /// `2024-01` → `2024/01/`.
    public static func prefix(month: String) throws -> String {
        let parts = month.split(separator: "-")
        guard parts.map(\.count) == [4, 2], parts.allSatisfy({ $0.allSatisfy(\.isNumber) }), let m = Int(parts[1]), (1...12).contains(m) else {
            throw ListingError("'\(month)' is not a month; write YYYY-MM, e.g. 2024-01")
        }
        return "\(parts[0])/\(parts[1])/"
    }

    public func run(month: String, jsonl: String? = nil, progress: (@Sendable (SyncSummary) -> Void)? = nil) async throws -> SyncSummary {
        let prefix = try Self.prefix(month: month)
        let started = Date()
        var summary = SyncSummary()
        var keys: [StoredObject] = []
        let layout = try await LayoutManifest.layout(of: source)
        let declared = try await LayoutManifest.read(destination)
        if layout == .perRecord, declared == .batched {
            throw LayoutError.mismatch(
                "the sync destination \(destination.location) is a batched archive (its \(LayoutManifest.key) says so); a per-record archive's month cannot go there. Sync into another folder")
        }
        if layout == .batched {
            // The destination becomes a batched archive too: its manifest first, so that `archiver ls` reads it so.
            if declared == nil, let perRecord = try await LayoutManifest.firstPerRecordObject(destination) {
                throw LayoutError.mismatch(
                    "the sync destination \(destination.location) holds per-record objects (e.g. \(perRecord)); a batched archive's month cannot go there. Sync into another folder")
            }
            let manifest = LayoutManifest.body(.batched)
            if (try? await destination.get(LayoutManifest.key)) != manifest {
                let failures = await destination.put([ArchiveObject(key: LayoutManifest.key, body: manifest)])
                if let failure = failures.values.first { throw failure }
            }
        }
        for try await page in source.list(prefix: prefix) {
            // A batched archive's objects and their indexes; a per-record archive's objects.
            let wanted = page.filter { layout == .batched ? BatchedObjectName.isBatched($0.key) : ArchiveKey(path: $0.key) != nil }
            summary.objects += wanted.count
            let toCopy = try await needingCopy(wanted)
            summary.skipped += wanted.count - toCopy.count
            summary.bytes += try await copy(toCopy)
            summary.copied += toCopy.count
            keys.append(contentsOf: wanted)
            summary.seconds = Date().timeIntervalSince(started)
            progress?(summary)
        }
        if let jsonl {
            if layout == .batched {
                (summary.jsonlRecords, summary.jsonlLeftOut) = try await writeJSONLines(indexes: keys.filter { BatchedObjectName(indexKey: $0.key) != nil }, to: jsonl)
            } else {
                (summary.jsonlRecords, summary.jsonlLeftOut) = try await writeJSONLines(objects: keys, to: jsonl)
            }
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// The objects missing from the destination or different there (size, then content).
    func needingCopy(_ objects: [StoredObject]) async throws -> [StoredObject] {
        var result: [StoredObject] = []
        for object in objects {
            guard let local = try await destination.head(object.key), local.size == object.size else {
                result.append(object)
                continue
            }
            if let etag = object.etag, !etag.contains("-") {
                let bytes = try await destination.get(object.key)
                if hex(Insecure.MD5.hash(data: bytes)) != etag { result.append(object) }
            } else {
                // No checksum from the source: compare the bytes.
                if try await destination.get(object.key) != source.get(object.key) { result.append(object) }
            }
        }
        return result
    }

    /// Fetches objects (`concurrency` at a time) and writes them durably; returns the bytes copied.
    func copy(_ objects: [StoredObject]) async throws -> Int64 {
        var copied: Int64 = 0
        var start = 0
        while start < objects.count {
            let slice = Array(objects[start..<min(objects.count, start + 256)])
            start += slice.count
            let fetched = try await withThrowingTaskGroup(of: ArchiveObject.self) { group in
                var result: [ArchiveObject] = []
                var next = 0
                func add() {
                    let key = slice[next].key
                    next += 1
                    group.addTask { ArchiveObject(key: key, body: try await source.get(key)) }
                }
                while next < min(concurrency, slice.count) { add() }
                while let object = try await group.next() {
                    result.append(object)
                    if next < slice.count { add() }
                }
                return result
            }
            let failures = await destination.put(fetched)
            if let (_, failure) = failures.first { throw failure }
            copied += fetched.reduce(0) { $0 + Int64($1.body.count) }
        }
        return copied
    }

    /// One decompressed record per line, in key order, streamed to a temporary file that is synced and
    /// renamed into place (memory stays flat however large the month). Only objects that hold exactly one
    /// stream record (one JSON object, on one line, within the record limit) are written; the others are
    /// returned by key. The temporary file of a sync that was killed is removed first.
    func writeJSONLines(objects: [StoredObject], to path: String) async throws -> (written: Int, leftOut: [SyncSummary.LeftOutObject]) {
        let sorted = objects.sorted(by: { $0.key < $1.key })
        return try await writeJSONLines(count: sorted.count, to: path) { i in
            (sorted[i].key, try await oneRecord(sorted[i]))
        }
    }

    /// The same for a batched month: every record its indexes list, in key order (the order a per-record archive of the
    /// same records gives), each decompressed from its member in the copied object.
    func writeJSONLines(indexes: [StoredObject], to path: String) async throws -> (written: Int, leftOut: [SyncSummary.LeftOutObject]) {
        var records: [(key: String, object: String, range: Range<Int64>)] = []
        for index in indexes {
            let read = try BatchIndex.decode(try await destination.get(index.key), key: index.key)
            records += read.entries.map { ($0.key, read.object, $0.range) }
        }
        records.sort { $0.key < $1.key }
        return try await writeJSONLines(count: records.count, to: path) { i in
            let record = records[i]
            if let problem = ArchiveRestorer.oversizedObject(record.key, size: Int64(record.range.count), maxRecordBytes: maxRecordBytes) {
                return (record.key, .failure(NotOneRecord(description: problem)))
            }
            return (record.key, oneRecord(try await destination.get(record.object, range: record.range)))
        }
    }

    /// Writes `count` records, `record(i)` giving each (or why it is left out), one a line.
    private func writeJSONLines(
        count: Int, to path: String, record: (Int) async throws -> (key: String, result: Result<[UInt8], NotOneRecord>)
    ) async throws -> (written: Int, leftOut: [SyncSummary.LeftOutObject]) {
        let final = FileSystem.absolute(path)
        FileSystem.removeAbandonedTemporaries(of: final)
        let temporary = final + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: temporary)
        else { throw StateError.unusable("cannot create '\(temporary)': check that its folder exists and can be written") }
        var written = 0
        var leftOut: [SyncSummary.LeftOutObject] = []
        do {
            var buffer: [UInt8] = []
            for i in 0..<count {
                let (key, result) = try await record(i)
                let bytes: [UInt8]
                switch result {
                case .success(let record): bytes = record
                case .failure(let problem):
                    leftOut.append(SyncSummary.LeftOutObject(key: key, problem: problem.description))
                    logger.warning("left out of the JSON-lines file: the object does not hold one stream record",
                                   metadata: ["s3.key": "\(key)", "problem": "\(problem)"])
                    continue
                }
                buffer.append(contentsOf: bytes)
                buffer.append(0x0A)
                written += 1
                if buffer.count > 1 << 20 {
                    try handle.write(contentsOf: buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try handle.write(contentsOf: buffer)
            try handle.synchronize()
            try handle.close()
            try FileSystem.rename(temporary, final)
            try FileSystem.fsyncPath(FileSystem.parent(of: final))
        } catch {
            try? handle.close()
            unlink(temporary)
            throw error
        }
        return (written, leftOut)
    }

    /// Why an object is not one stream record.
    struct NotOneRecord: Error, CustomStringConvertible {
        let description: String
    }

    /// The record an object holds (without trailing whitespace), or why it does not hold exactly one.
    func oneRecord(_ object: StoredObject) async throws -> Result<[UInt8], NotOneRecord> {
        if let problem = ArchiveRestorer.oversizedObject(object.key, size: object.size, maxRecordBytes: maxRecordBytes) {
            return .failure(NotOneRecord(description: problem))
        }
        return oneRecord(try await destination.get(object.key))
    }

    /// The record a gzip object or member holds, or why it does not hold exactly one.
    func oneRecord(_ gzip: [UInt8]) -> Result<[UInt8], NotOneRecord> {
        var record: [UInt8]
        do {
            record = try gunzip(gzip, maximumBytes: maxRecordBytes)
        } catch {
            return .failure(NotOneRecord(description: "\(error)"))
        }
        while let last = record.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { record.removeLast() }
        if record.contains(0x0A) {
            return .failure(NotOneRecord(description: "it holds more than one line"))
        }
        do {
            _ = try RecordScanner().scan(record)
        } catch {
            return .failure(NotOneRecord(description: "it is not a stream record: \(error)"))
        }
        return .success(record)
    }
}
