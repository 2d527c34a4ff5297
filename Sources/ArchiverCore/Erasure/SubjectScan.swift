import GRDB
import Foundation

/// Reads every record of an archive and names its subject by the rules' subject templates: how the subject index
/// of an archive made before it existed (or on another machine) is built (`archiver index rebuild`), and how
/// `erase --scan` finds a subject's records where the index has none. Per-record objects are read many at once;
/// a batched object is read whole once and cut by its index.
///
/// A record's table is read from its `eventSourceARN`; a record without one (as the DynamoDB Streams API delivers
/// them) is taken by `table: "*"` rules only.
public struct SubjectScan: Sendable {
    public let store: any ArchiveStore
    public let rules: RuleSet
    public var concurrency = 32

    public init(store: any ArchiveStore, rules: RuleSet) {
        self.store = store
        self.rules = rules
    }

    /// Where a scan stands.
    public struct Progress: Sendable {
        public var objects = 0
        public var records = 0
        public var marked = 0
        public var unreadable = 0
        /// Records passed over because an index object names them (nothing read).
        public var skipped = 0
    }

    /// Reads the whole archive but the records of `skip` (archive keys an index object named: a batched object all of
    /// whose records are in it is not read); hands over the marks found (only those of `only`, an HMAC, when given) a
    /// page at a time. Returns the final counts.
    public func run(only: String? = nil, skip: Set<String> = [], found: (([SubjectMark]) throws -> Void),
                    progress: ((Progress) -> Void)? = nil) async throws -> Progress {
        var state = Progress()
        let rules = rules
        @Sendable func subject(_ record: [UInt8], key: String) -> String? {
            guard let scanned = try? RecordScanner().scan(record) else { return nil }
            return record.withUnsafeBytes { bytes -> String? in
                var table: String?
                if let range = scanned.eventSourceARNRange {
                    switch rules.table(inRawARN: UnsafeRawBufferPointer(rebasing: bytes[range])) {
                    case .noRule: return nil
                    case .table(let named): table = named
                    }
                }
                guard rules.hasRules(forTable: table) else { return nil }
                return rules.planWithSubject(record: bytes, scanned: scanned, table: table, archiveKey: key, source: "scan").subject
            }
        }
        if try await LayoutManifest.layout(of: store) == .batched {
            for try await page in BatchedArchive(store: store).indexes(prefix: "") {
                let store = self.store
                let results = try await concurrentMap(page, limit: concurrency) { read -> ([SubjectMark], Int, Int) in
                    let entries = skip.isEmpty ? read.index.entries : read.index.entries.filter { !skip.contains($0.key) }
                    guard !entries.isEmpty else { return ([], 0, 0) }
                    let object = try await store.get(read.index.object)
                    var marks: [SubjectMark] = []
                    var unreadable = 0
                    for entry in entries {
                        let end = Int(entry.offset + entry.length)
                        guard end <= object.count, let record = try? gunzip(Array(object[Int(entry.offset)..<end])) else {
                            unreadable += 1
                            continue
                        }
                        if let hmac = subject(record, key: entry.key), only == nil || only == hmac {
                            marks.append(SubjectMark(hmac: hmac, archiveKey: entry.key, objectKey: read.key))
                        }
                    }
                    return (marks, entries.count, unreadable)
                }
                let marks = results.flatMap(\.0)
                try found(marks)
                state.objects += results.count { $0.1 > 0 }
                state.records += results.reduce(0) { $0 + $1.1 }
                state.skipped += page.reduce(0) { $0 + $1.index.entries.count } - results.reduce(0) { $0 + $1.1 }
                state.unreadable += results.reduce(0) { $0 + $1.2 }
                state.marked += marks.count
                progress?(state)
            }
            return state
        }
        for try await page in store.list(prefix: "") {
            let all = page.map(\.key).filter { ArchiveKey(path: $0) != nil }
            let keys = skip.isEmpty ? all : all.filter { !skip.contains($0) }
            state.skipped += all.count - keys.count
            let store = self.store
            let results = try await concurrentMap(keys, limit: concurrency) { key -> SubjectMark?? in
                guard let bytes = try? await store.get(key), let record = try? gunzip(bytes) else { return .some(nil) }
                guard let hmac = subject(record, key: key), only == nil || only == hmac else { return nil }
                return .some(SubjectMark(hmac: hmac, archiveKey: key))
            }
            let marks = results.compactMap { $0 ?? nil }
            try found(marks)
            state.objects += keys.count
            state.records += keys.count
            state.unreadable += results.count { $0 == .some(nil) }
            state.marked += marks.count
            progress?(state)
        }
        return state
    }
}

/// Runs `body` over `items`, at most `limit` at once; the results in the order of `items`.
public func concurrently<Item: Sendable, Output: Sendable>(
    _ items: [Item], limit: Int, _ body: @escaping @Sendable (Item) async -> Output
) async -> [Output] {
    var results = [Output?](repeating: nil, count: items.count)
    await withTaskGroup(of: (Int, Output).self) { group in
        var next = 0
        func start() {
            let index = next
            next += 1
            group.addTask { (index, await body(items[index])) }
        }
        while next < min(limit, items.count) { start() }
        while let (index, output) = await group.next() {
            results[index] = output
            if next < items.count { start() }
        }
    }
    return results.map { $0! }
}

/// `body` over `items`, `limit` at a time, results in order; the first error thrown ends the others.
func concurrentMap<Item: Sendable, Output: Sendable>(
    _ items: [Item], limit: Int, _ body: @escaping @Sendable (Item) async throws -> Output
) async throws -> [Output] {
    var results = [Output?](repeating: nil, count: items.count)
    try await withThrowingTaskGroup(of: (Int, Output).self) { group in
        var next = 0
        while next < min(limit, items.count) {
            let i = next
            group.addTask { (i, try await body(items[i])) }
            next += 1
        }
        while let (i, output) = try await group.next() {
            results[i] = output
            if next < items.count {
                let j = next
                group.addTask { (j, try await body(items[j])) }
                next += 1
            }
        }
    }
    return results.map { $0! }
}

extension ErasureStore {
    /// Adds index rows (a rebuild, a scan), as the commit transaction writes them.
    public func index(_ marks: [SubjectMark]) throws {
        guard !marks.isEmpty else { return }
        try writing { db in try SubjectIndexWrite(marks: marks).write(db, at: Date()) }
    }

    /// How many records the index holds, and of how many subjects.
    public func indexCounts() throws -> (records: Int, subjects: Int) {
        try reading { db in
            try SubjectIndex.counts(db)
        }
    }
}
