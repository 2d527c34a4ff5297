import Foundation

/// Reads a batched archive through its indexes: what `ls`, `restore`, `sync`, `dlq retry` and the rewrite use.
public struct BatchedArchive: Sendable {
    public let store: any ArchiveStore
    /// Indexes read at once.
    public var concurrency = 16

    public init(store: any ArchiveStore) {
        self.store = store
    }

    /// An index with where it is.
    public struct ReadIndex: Sendable {
        public var key: String
        public var name: BatchedObjectName
        public var index: BatchIndex
    }

    /// Reads one index.
    /// - Throws: `BatchIndexError` for an index that is not readable; store errors.
    public func index(_ key: String) async throws -> BatchIndex {
        try BatchIndex.decode(try await store.get(key), key: key)
    }

    /// The indexes under `prefix` (`YYYY/`, `YYYY/MM/`, `YYYY/MM/DD/` or ""), in key order, a listing page at a time,
    /// `concurrency` read at once.
    public func indexes(prefix: String) -> AsyncThrowingStream<[ReadIndex], any Error> {
        let store = self.store
        let pages = LazyIterator { store.list(prefix: prefix) }
        let archive = self
        return AsyncThrowingStream(unfolding: {
            while let page = try await pages.next() {
                let names = page.compactMap { object in BatchedObjectName(indexKey: object.key).map { (object.key, $0) } }
                guard !names.isEmpty else { continue }
                return try await archive.read(names)
            }
            return nil
        })
    }

    /// Reads indexes, keeping their order.
    func read(_ names: [(String, BatchedObjectName)]) async throws -> [ReadIndex] {
        var results = [ReadIndex?](repeating: nil, count: names.count)
        try await withThrowingTaskGroup(of: (Int, ReadIndex).self) { group in
            var next = 0
            func start() {
                let i = next
                next += 1
                group.addTask { (i, ReadIndex(key: names[i].0, name: names[i].1, index: try await self.index(names[i].0))) }
            }
            while next < min(concurrency, names.count) { start() }
            while let (i, read) = try await group.next() {
                results[i] = read
                if next < names.count { start() }
            }
        }
        return results.map { $0! }
    }

    /// A record found by its key, in its object.
    public struct Located: Sendable {
        public var entry: BatchIndexEntry
        /// The data object holding it.
        public var object: String
        /// The index listing it.
        public var indexKey: String
    }

    /// Finds a record by the key it would have as a per-record object: one listing of its day's indexes (names
    /// carry each object's first and last deletion time), then the indexes whose times hold it, usually one.
    /// - Returns: nil when no index lists the key.
    public func locate(_ key: String) async throws -> Located? {
        try await locate(key, in: try await candidates(key))
    }

    /// Finds a record in the first of `indexes` that lists it (an index that is gone is passed over).
    /// - Returns: nil when none lists the key.
    public func locate(_ key: String, in indexes: [String]) async throws -> Located? {
        for indexKey in indexes {
            let index: BatchIndex
            do {
                index = try await self.index(indexKey)
            } catch let error as ArchiveStoreError where error.isNotFound {
                continue
            }
            if let entry = index.entries.first(where: { $0.key == key }) {
                return Located(entry: entry, object: index.object, indexKey: indexKey)
            }
        }
        return nil
    }

    /// The indexes whose objects can hold a key: those of its day whose first and last deletion times enclose its
    /// time (one listing of the day's indexes, `YYYY/MM/DD/_`).
    public func candidates(_ key: String) async throws -> [String] {
        guard let parts = RecordKeyParts(key) else { return [] }
        var candidates: [String] = []
        for try await page in store.list(prefix: parts.day + "/_") {
            for object in page {
                if let name = BatchedObjectName(indexKey: object.key), name.first <= parts.secondsOfDay, parts.secondsOfDay <= name.last {
                    candidates.append(object.key)
                }
            }
        }
        return candidates
    }

    /// One record's member (exactly the bytes a per-record archive holds for it): one ranged read.
    public func member(_ located: Located) async throws -> [UInt8] {
        let bytes = try await store.get(located.object, range: located.entry.range)
        guard bytes.count == located.entry.length else {
            throw BatchIndexError("the object \(located.object) ends before the record \(located.entry.key) its index \(located.indexKey) lists (at bytes \(located.entry.offset)–\(located.entry.offset + located.entry.length))")
        }
        return bytes
    }
}
