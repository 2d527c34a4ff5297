import Foundation
import JSONToolkit
import Logging

/// What a restore did.
public struct RestoreSummary: Sendable, Codable, Equatable {
    public var total = 0
    public var restored = 0
    public var exists = 0
    public var failed = 0
    public var dryRun = false
    public var seconds: Double = 0
    /// The first few problems, for the report.
    public var problems: [String] = []

    enum CodingKeys: String, CodingKey {
        case total, restored, exists, failed, seconds, problems
        case dryRun = "dry_run"
    }

    public init() {}

    public var text: String {
        var rows: [(String, String)] = [
            ("objects", "\(total)"),
            (dryRun ? "would restore" : "restored", "\(restored)"),
            ("already there", "\(exists)\(exists > 0 ? "  (pass --overwrite to replace)" : "")"),
            ("failed", "\(failed)"),
            ("time", String(format: "%.2f s  (%.0f items/s)", seconds, seconds > 0 ? Double(total) / seconds : 0)),
        ]
        for problem in problems.prefix(10) { rows.append(("", problem)) }
        return alignedRows(rows)
    }
}

/// Brings archived records back: reads each object, takes its `OldImage`, and puts it into a target.
public struct ArchiveRestorer: Sendable {
    public let store: any ArchiveStore
    public let target: any RestoreTarget
    public var overwrite = false
    public var dryRun = false
    /// Objects read at once.
    public var concurrency = 32
    /// Items handed to the target at once.
    public var batchSize = 1000
    /// The longest record read back (the tail's `--max-record-bytes`): an object that decompresses to more, or
    /// is larger than such a record compresses to, is refused by key without being read whole, so memory stays
    /// bounded whoever wrote the archive.
    public var maxRecordBytes = TailOptions.defaultMaxRecordBytes
    public var logger = Logger(label: "archiver.restore")
    /// Why a record may not be restored (its subject was erased: ``SuppressionCheck``), or nil; nil: no check.
    public var refuse: (@Sendable (RestoreItem) -> String?)?
    /// The indexes a state folder's catalogue names for a key of this archive (``BatchCatalogue``), or nil when
    /// it knows nothing of the archive; nil: no state folder. With it, `restore <key>` of a batched archive reads
    /// only the index and the record's bytes.
    public var catalogue: (@Sendable (String) throws -> [String]?)?

    public init(store: any ArchiveStore, target: any RestoreTarget) {
        self.store = store
        self.target = target
    }

    /// The largest object that can hold a record of `maxRecordBytes` (gzip adds a few bytes per 64 KiB to data
    /// it cannot compress, and a header and trailer): anything larger was not written by archiver.
    public static func largestObject(forRecordBytes maxRecordBytes: Int) -> Int64 {
        Int64(maxRecordBytes) + Int64(maxRecordBytes / 64) + 4096
    }

    /// Why an object of `size` bytes is not read, or nil when it may hold a record.
    static func oversizedObject(_ key: String, size: Int64, maxRecordBytes: Int) -> String? {
        guard size > largestObject(forRecordBytes: maxRecordBytes) else { return nil }
        return "the object \(key) is \(size) bytes, larger than any archived record of at most \(maxRecordBytes) bytes "
            + "(--max-record-bytes) compresses to; it is not decompressed (if it is a record archived with a larger --max-record-bytes, pass that here too)"
    }

    /// Reads an archived object into the item it holds.
    /// - Parameter maxRecordBytes: the most the object may decompress to; past it, reading stops with an error naming the key.
    public static func item(fromArchived bytes: [UInt8], key: String, maxRecordBytes: Int = TailOptions.defaultMaxRecordBytes) throws -> RestoreItem {
        let record: [UInt8]
        do {
            record = try gunzip(bytes, maximumBytes: maxRecordBytes)
        } catch {
            throw RestoreError.unreadableObject("the object \(key) is not a readable archive: \(error)")
        }
        let scanned: ScannedRecord
        do {
            scanned = try RecordScanner().scan(record)
        } catch {
            throw RestoreError.unreadableObject("the object \(key) does not hold a stream record: \(error)")
        }
        guard let range = scanned.oldImageRange else { throw RestoreError.unreadableObject("the record in \(key) has no OldImage to restore") }
        do {
            var item = try Item(dynamoJSON: try JSONValue.parse(Array(record[range])))
            // A key attribute missing from the image comes back from Keys, so the item can be put.
            for key in scanned.keys where item[key.name] == nil {
                let value: AttributeValue
                switch key.type {
                case .string: value = .s(key.value)
                case .number: value = .n(key.value)
                case .binary: value = .b(Array(Data(base64Encoded: key.value) ?? Data()))
                }
                item.attributes.insert((key.name, value), at: 0)
            }
            return RestoreItem(archiveKey: key, keys: scanned.keys, item: item)
        } catch let error as RestoreError {
            throw error
        } catch {
            throw RestoreError.unreadableObject("the OldImage in \(key) is not a valid DynamoDB item: \(error)")
        }
    }

    /// Restores one object, by its key as `archiver ls` prints it.
    /// In a batched archive (its manifest says so) the key is the record's key as a per-record object, as `ls`
    /// prints it: the record is found with one listing of its day's indexes, one index read and one ranged read.
    /// When the state folder's catalogue knows the archive, it names the index (the archive is batched, since only a
    /// batched tail writes the catalogue): one index read and one ranged read, and the listing only if that misses.
    public func restore(key: String) async throws -> RestoreOutcome {
        var found: BatchedArchive.Located?
        if let candidates = try catalogue?(key) {
            found = try await BatchedArchive(store: store).locate(key, in: candidates)
        }
        let batched = if found != nil { true } else { try await LayoutManifest.layout(of: store) == .batched }
        if batched {
            let archive = BatchedArchive(store: store)
            if found == nil { found = try await archive.locate(key) }
            guard let located = found else {
                throw RestoreError.noObject("no archived record '\(key)' in \(store.location); `archiver ls --archive \(store.location)` lists the keys")
            }
            if let problem = Self.oversizedObject(key, size: located.entry.length, maxRecordBytes: maxRecordBytes) { throw RestoreError.unreadableObject(problem) }
            let item = try Self.item(fromArchived: try await archive.member(located), key: key, maxRecordBytes: maxRecordBytes)
            if let reason = refuse?(item) { return .failed(reason) }
            return try await target.restore([item], overwrite: overwrite, dryRun: dryRun)[0]
        }
        let bytes: [UInt8]
        do {
            bytes = try await store.get(key)
        } catch let error as ArchiveStoreError where error.isNotFound {
            throw RestoreError.noObject("no archived object '\(key)' in \(store.location); `archiver ls --archive \(store.location)` lists the keys")
        }
        if let problem = Self.oversizedObject(key, size: Int64(bytes.count), maxRecordBytes: maxRecordBytes) { throw RestoreError.unreadableObject(problem) }
        let item = try Self.item(fromArchived: bytes, key: key, maxRecordBytes: maxRecordBytes)
        if let reason = refuse?(item) { return .failed(reason) }
        return try await target.restore([item], overwrite: overwrite, dryRun: dryRun)[0]
    }

    /// Checks a `--prefix` value: `YYYY/MM` or `YYYY/MM/DD`.
    public static func validatePrefix(_ prefix: String) -> String? {
        let parts = prefix.split(separator: "/", omittingEmptySubsequences: false)
        let widths = [4, 2, 2]
        guard (2...3).contains(parts.count),
            zip(parts, widths).allSatisfy({ $0.count == $1 && $0.allSatisfy(\.isNumber) })
        else { return "'\(prefix)' is not a date prefix; write YYYY/MM or YYYY/MM/DD (e.g. 2024/01 or 2024/01/15)" }
        return nil
    }

    /// Restores every object under a date prefix, `batchSize` at a time, reporting progress.
    public func restore(prefix: String, progress: (@Sendable (RestoreSummary) -> Void)? = nil) async throws -> RestoreSummary {
        if let problem = Self.validatePrefix(prefix) { throw RestoreError.invalidRequest(problem) }
        let started = Date()
        var summary = RestoreSummary()
        summary.dryRun = dryRun
        var keys: [StoredObject] = []
        func flush() async throws {
            guard !keys.isEmpty else { return }
            try await restore(try await load(keys), into: &summary)
            keys.removeAll()
            summary.seconds = Date().timeIntervalSince(started)
            progress?(summary)
        }
        let listed = prefix.hasSuffix("/") ? prefix : prefix + "/"
        if try await LayoutManifest.layout(of: store) == .batched {
            // Each object is read once, whole, and its records cut out of it by its index.
            for try await page in BatchedArchive(store: store).indexes(prefix: listed) {
                for read in page {
                    let loaded = try await load(read)
                    var start = 0
                    while start < loaded.count {
                        let slice = Array(loaded[start..<min(loaded.count, start + batchSize)])
                        start += slice.count
                        try await restore(slice, into: &summary)
                        summary.seconds = Date().timeIntervalSince(started)
                        progress?(summary)
                    }
                }
            }
            summary.seconds = Date().timeIntervalSince(started)
            return summary
        }
        for try await page in store.list(prefix: listed) {
            for object in page where ArchiveKey(path: object.key) != nil {
                keys.append(object)
                if keys.count >= batchSize { try await flush() }
            }
        }
        try await flush()
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// Hands loaded records to the target and counts the outcomes.
    func restore(_ loaded: [Result<RestoreItem, any Error>], into summary: inout RestoreSummary) async throws {
        var items: [RestoreItem] = []
        for result in loaded {
            switch result {
            case .success(let item):
                if let reason = refuse?(item) {
                    summary.failed += 1
                    if summary.problems.count < 20 { summary.problems.append("\(item.archiveKey): \(reason)") }
                    continue
                }
                items.append(item)
            case .failure(let error):
                summary.failed += 1
                if summary.problems.count < 20 { summary.problems.append("\(error)") }
            }
        }
        let outcomes = try await target.restore(items, overwrite: overwrite, dryRun: dryRun)
        for (item, outcome) in zip(items, outcomes) {
            switch outcome {
            case .restored: summary.restored += 1
            case .exists(let message):
                summary.exists += 1
                if summary.problems.count < 20 { summary.problems.append(message) }
            case .failed(let message):
                summary.failed += 1
                if summary.problems.count < 20 { summary.problems.append("\(item.archiveKey): \(message)") }
            }
        }
        summary.total += loaded.count
    }

    /// The records of one batched object, read whole once and cut by its index.
    func load(_ read: BatchedArchive.ReadIndex) async throws -> [Result<RestoreItem, any Error>] {
        guard !read.index.entries.isEmpty else { return [] }
        let object: [UInt8]
        do {
            object = try await store.get(read.index.object)
        } catch let error as ArchiveStoreError where !error.isFailed {
            let problem = RestoreError.unreadableObject("cannot read \(read.index.object), which the index \(read.key) names: \(error)")
            return read.index.entries.map { _ in .failure(problem) }
        }
        return read.index.entries.map { entry in
            Result {
                if let problem = Self.oversizedObject(entry.key, size: entry.length, maxRecordBytes: maxRecordBytes) { throw RestoreError.unreadableObject(problem) }
                guard entry.offset + entry.length <= Int64(object.count) else {
                    throw RestoreError.unreadableObject("the object \(read.index.object) ends before the record \(entry.key) its index lists")
                }
                return try Self.item(fromArchived: Array(object[Int(entry.offset)..<Int(entry.offset + entry.length)]), key: entry.key, maxRecordBytes: maxRecordBytes)
            }
        }
    }

    /// Reads and decodes objects, `concurrency` at a time, keeping their order.
    func load(_ objects: [StoredObject]) async throws -> [Result<RestoreItem, any Error>] {
        var results = [Result<RestoreItem, any Error>?](repeating: nil, count: objects.count)
        let keys = objects.map(\.key)
        let store = self.store
        let limit = maxRecordBytes
        try await withThrowingTaskGroup(of: (Int, Result<RestoreItem, any Error>).self) { group in
            var next = 0
            func start() {
                let index = next
                next += 1
                group.addTask {
                    do {
                        if let problem = ArchiveRestorer.oversizedObject(keys[index], size: objects[index].size, maxRecordBytes: limit) {
                            throw RestoreError.unreadableObject(problem)
                        }
                        let bytes = try await store.get(keys[index])
                        return (index, .success(try ArchiveRestorer.item(fromArchived: bytes, key: keys[index], maxRecordBytes: limit)))
                    } catch let error as ArchiveStoreError where error.isFailed {
                        throw error
                    } catch {
                        return (index, .failure(error))
                    }
                }
            }
            while next < min(concurrency, keys.count) { start() }
            while let (index, result) = try await group.next() {
                results[index] = result
                if next < keys.count { start() }
            }
        }
        return results.map { $0! }
    }
}
