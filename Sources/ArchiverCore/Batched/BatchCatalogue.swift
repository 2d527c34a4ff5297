import Foundation
import GRDB

/// The objects a batched tail wrote, as the state folder remembers them (table `batch_catalogue` in
/// `archiver.sqlite`): one row per object, with its index's key, its day, its first and last deletion time and its
/// lowest and highest sequence number. `restore <key>` looks the key's day, time and sequence up here and reads the
/// one index that can hold it, without reading the manifest or listing the day: two requests on S3.
///
/// A row is written in the transaction that takes its object off the pending list (after the object and its index
/// are durable), so the catalogue never names an object that is not there. An index named here that is gone
/// (deleted by `lifecycle enforce`) or no longer lists the key (erased) sends `restore` to the listing of the day,
/// as does an archive the catalogue knows nothing of (written from another machine or another state folder).
/// Rows are keyed by the archive's location (`s3://bucket/prefix`, or a folder's absolute path).
public enum BatchCatalogue {
    static let migrationName = "batch_catalogue"

    @Sendable static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE batch_catalogue (
                archive TEXT NOT NULL,
                index_key TEXT NOT NULL,
                day TEXT NOT NULL,
                first INTEGER NOT NULL,
                last INTEGER NOT NULL,
                first_sequence TEXT,
                last_sequence TEXT,
                PRIMARY KEY (archive, index_key)
            ) WITHOUT ROWID;
            CREATE INDEX batch_catalogue_day ON batch_catalogue (archive, day, first);
            """)
    }

    /// Sequence numbers are compared as numbers: digits only, left-padded to this width (longer or other ones are
    /// not kept, and the object is then found by its times alone).
    static let sequenceWidth = 48

    /// `sequence` padded for comparison, or nil when it is not a number of at most `sequenceWidth` digits.
    static func padded(_ sequence: some Collection<UInt8>) -> String? {
        guard !sequence.isEmpty, sequence.count <= sequenceWidth, sequence.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return String(repeating: "0", count: sequenceWidth - sequence.count) + String(decoding: sequence, as: UTF8.self)
    }

    /// Whether digit string `a` is a smaller number than `b` (both digits only).
    static func less(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        let a = a.drop { $0 == 0x30 }
        let b = b.drop { $0 == 0x30 }
        return a.count != b.count ? a.count < b.count : a.lexicographicallyPrecedes(b)
    }
}

/// One object in the catalogue.
public struct CatalogueRow: Sendable, Equatable {
    /// The index's key (it keeps its name when the object is rewritten).
    public var indexKey: String
    /// `2024/01/15`.
    public var day: String
    public var first: Int
    public var last: Int
    /// The lowest and highest sequence numbers, padded (nil when a record's is not a number).
    public var firstSequence: String?
    public var lastSequence: String?

    public init(indexKey: String, day: String, first: Int, last: Int, firstSequence: String?, lastSequence: String?) {
        self.indexKey = indexKey
        self.day = day
        self.first = first
        self.last = last
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
    }
}

/// The catalogue rows of written objects, in the commit transaction (idempotent: a replay writes the same rows).
struct CatalogueWrite: CommitWrite {
    var archive: String
    var rows: [CatalogueRow]

    func write(_ db: Database, at date: Date) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO batch_catalogue (archive, index_key, day, first, last, first_sequence, last_sequence) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (archive, index_key) DO UPDATE SET day = excluded.day, first = excluded.first, last = excluded.last,
                first_sequence = excluded.first_sequence, last_sequence = excluded.last_sequence
            """)
        for row in rows {
            try insert.execute(arguments: [archive, row.indexKey, row.day, row.first, row.last, row.firstSequence, row.lastSequence])
        }
    }
}

extension CheckpointStore {
    /// The index keys the catalogue holds for `archive`, in key order.
    public func catalogued(archive: String) throws -> [String] {
        try reading { db in
            try String.fetchAll(db, sql: "SELECT index_key FROM batch_catalogue WHERE archive = ? ORDER BY index_key", arguments: [archive])
        }
    }

    /// The indexes of `archive` that the catalogue says can hold the record `key` (its day, time and sequence fall
    /// in their objects' ranges), most likely first; nil when the catalogue has no object of that archive at all.
    public func catalogueCandidates(archive: String, key: String) throws -> [String]? {
        guard let parts = RecordKeyParts(key) else { return nil }
        let sequence = BatchCatalogue.padded(Array(key.utf8)[parts.sequence])
        return try reading { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM batch_catalogue WHERE archive = ?)", arguments: [archive]) == true else { return nil }
            let rows = try Row.fetchAll(
                db, sql: """
                    SELECT index_key, first_sequence, last_sequence FROM batch_catalogue
                    WHERE archive = ? AND day = ? AND first <= ? AND last >= ? ORDER BY first, index_key
                    """,
                arguments: [archive, parts.day, parts.secondsOfDay, parts.secondsOfDay])
            // An object whose sequence range holds the key's first; one without ranges next; the others cannot hold it.
            var holding: [String] = []
            var unknown: [String] = []
            for row in rows {
                let low: String? = row["first_sequence"]
                let high: String? = row["last_sequence"]
                if let sequence, let low, let high {
                    if low <= sequence && sequence <= high { holding.append(row["index_key"]) }
                } else {
                    unknown.append(row["index_key"])
                }
            }
            return holding + unknown
        }
    }
}

extension CatalogueRow {
    /// The row of an object as its index describes it: what the tail wrote for it (its sequence range narrower once
    /// records were erased from it).
    public init(indexKey: String, name: BatchedObjectName, index: BatchIndex) {
        var low: [UInt8] = []
        var high: [UInt8] = []
        var numeric = !index.entries.isEmpty
        for entry in index.entries where numeric {
            let sequence = Array(entry.sequence.utf8)
            guard !sequence.isEmpty, sequence.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                numeric = false
                break
            }
            if low.isEmpty || BatchCatalogue.less(sequence, low) { low = sequence }
            if high.isEmpty || BatchCatalogue.less(high, sequence) { high = sequence }
        }
        let (firstSequence, lastSequence) = numeric ? (BatchCatalogue.padded(low), BatchCatalogue.padded(high)) : (nil, nil)
        self.init(indexKey: indexKey, day: name.datePath, first: name.first, last: name.last,
                  firstSequence: lastSequence == nil ? nil : firstSequence, lastSequence: firstSequence == nil ? nil : lastSequence)
    }
}

extension CheckpointStore {
    /// Adds (or replaces) the rows of objects of `archive` written outside a tail: by `dlq retry`, or read back from
    /// the archive's indexes by `catalogue rebuild`.
    public func catalogue(_ rows: [CatalogueRow], archive: String) throws {
        guard !rows.isEmpty else { return }
        try writing { db in try CatalogueWrite(archive: archive, rows: rows).write(db, at: Date()) }
    }

    /// Removes the rows of `archive` whose index is not in `keep` (objects deleted or rewritten under another name
    /// since).
    /// - Returns: how many rows were removed.
    @discardableResult
    public func removeCatalogued(archive: String, keeping keep: Set<String>) throws -> Int {
        let stale = try catalogued(archive: archive).filter { !keep.contains($0) }
        guard !stale.isEmpty else { return 0 }
        try writing { db in
            let delete = try db.cachedStatement(sql: "DELETE FROM batch_catalogue WHERE archive = ? AND index_key = ?")
            for key in stale { try delete.execute(arguments: [archive, key]) }
        }
        return stale.count
    }
}

/// Fills a state folder's catalogue from a batched archive's indexes (one read per object, no record read), so that
/// `restore <key>` with that state folder reads only the index and the record's range: for an archive written from
/// another machine or another state folder, or a catalogue that fell behind (rows of objects gone are removed).
public struct CatalogueRebuild: Sendable {
    public let store: any ArchiveStore
    public let checkpoints: CheckpointStore

    public init(store: any ArchiveStore, checkpoints: CheckpointStore) {
        self.store = store
        self.checkpoints = checkpoints
    }

    /// What a rebuild did.
    public struct Summary: Sendable, Equatable {
        /// Objects catalogued (rows written or rewritten).
        public var objects = 0
        /// Rows removed: their index is no longer in the archive.
        public var removed = 0

        public init(objects: Int = 0, removed: Int = 0) {
            self.objects = objects
            self.removed = removed
        }
    }

    /// Reads every index of the archive and writes its row, a listing page at a time; then removes the rows of
    /// indexes no longer there.
    /// - Parameter progress: called after each page with the objects catalogued so far.
    public func run(progress: (Int) -> Void = { _ in }) async throws -> Summary {
        var summary = Summary()
        var seen: Set<String> = []
        for try await page in BatchedArchive(store: store).indexes(prefix: "") {
            let rows = page.map { CatalogueRow(indexKey: $0.key, name: $0.name, index: $0.index) }
            try checkpoints.catalogue(rows, archive: store.location)
            seen.formUnion(rows.map(\.indexKey))
            summary.objects += rows.count
            progress(summary.objects)
        }
        summary.removed = try checkpoints.removeCatalogued(archive: store.location, keeping: seen)
        return summary
    }
}
