/// Reads the archive's subject index objects (``SubjectIndexObjects``): what `archiver index rebuild` fills a state
/// folder's index from without reading a record, and what an erasure rewrites without its subject's lines.
public struct SubjectIndexObjectReader: Sendable {
    public let store: any ArchiveStore
    public var concurrency = 32

    public init(store: any ArchiveStore) { self.store = store }

    /// What a read of every index object found.
    public struct Result: Sendable {
        /// Index objects read.
        public var objects = 0
        /// Lines handed over (a record named by two objects counts twice).
        public var rows = 0
        /// The archive keys named: the record scan reads none of them.
        public var covered: Set<String> = []

        public init() {}
    }

    /// Reads every index object, a page at a time, handing over each page's marks.
    /// - Throws: ``SubjectIndexObjectError`` when an object was written with another subject key than `keyID` (the
    ///   state folder's), before any of its page's marks are handed over; store errors.
    public func run(keyID: String, found: ([SubjectMark]) throws -> Void) async throws -> Result {
        var result = Result()
        for try await page in store.list(prefix: SubjectIndexObjects.prefix) {
            let keys = page.map(\.key).filter { SubjectIndexObjects.Name(key: $0) != nil }
            let store = self.store
            let contents = try await concurrentMap(keys, limit: concurrency) { key -> (String, SubjectIndexObjects.Contents?) in
                do {
                    return (key, try SubjectIndexObjects.read(try await store.get(key), key: key))
                } catch let error as ArchiveStoreError where error.isNotFound {
                    return (key, nil)  // Rewritten away by an erasure since the listing.
                }
            }
            var marks: [SubjectMark] = []
            for (key, read) in contents {
                guard let read else { continue }
                guard read.keyID == keyID else {
                    throw SubjectIndexObjectError(
                        "the archive's subject index object \(key) was written with the subject key \(read.keyID), and this state folder's key is \(keyID): "
                            + "copy subject.key from the state folder of the tail that archived these records into this state folder (subjects are found through it), "
                            + "or run `archiver index rebuild --scan-records` to read every record and index it under this key")
                }
                result.objects += 1
                for line in read.lines {
                    marks.append(line.mark)
                    result.covered.insert(line.archiveKey)
                }
            }
            result.rows += marks.count
            try found(marks)
        }
        return result
    }

    /// The index objects that name `subject` (an HMAC) for one of `records` (archive keys): of each day of the records,
    /// only those whose time range holds one of them are read.
    public func naming(_ subject: String, records: [String]) async throws -> [(key: String, scan: SubjectIndexObjects.Scan)] {
        var byDay: [String: [DeletionTime]] = [:]
        for key in records {
            guard let parsed = ArchiveKey(path: key) else { continue }
            byDay[SubjectIndexObjects.dayPrefix(parsed.time), default: []].append(parsed.time)
        }
        var wanted: [String] = []
        for (prefix, times) in byDay.sorted(by: { $0.key < $1.key }) {
            for try await page in store.list(prefix: prefix) {
                for object in page {
                    guard let name = SubjectIndexObjects.Name(key: object.key), times.contains(where: name.covers) else { continue }
                    wanted.append(object.key)
                }
            }
        }
        let store = self.store
        // Each read for the subject's lines only: the others are kept as they are, not decoded.
        let read = try await concurrentMap(wanted, limit: concurrency) { key -> (String, SubjectIndexObjects.Scan?) in
            do {
                return (key, try SubjectIndexObjects.scan(try await store.get(key), key: key, subject: subject))
            } catch let error as ArchiveStoreError where error.isNotFound {
                return (key, nil)
            }
        }
        return read.compactMap { key, scan in
            guard let scan, !scan.named.isEmpty else { return nil }
            return (key, scan)
        }
    }
}
