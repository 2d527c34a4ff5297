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
