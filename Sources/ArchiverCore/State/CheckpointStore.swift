import Foundation
import GRDB

/// Where each source has got to, kept in `<state>/archiver.sqlite`.
///
/// A checkpoint is saved only after everything before it is durable (archived or dead-lettered), in a
/// synchronous SQLite transaction: a crash leaves the last saved checkpoint, never a half-written one.
///
/// What a crash can leave is read as SQLite reads it: a torn or stale write-ahead log (`-wal`, `-shm`) is
/// recovered up to its last whole transaction, so a checkpoint can only be older than the last one saved,
/// never ahead; a zero-length file (killed before the first write) is a fresh start. A database SQLite
/// finds damaged is not repaired here — a guess could move a checkpoint past records never archived — and
/// opening it fails with a `StateError` that names the file and says how to start over safely.
public final class CheckpointStore: Sendable {
    /// The connection; other stores of the state database (the deletion queue) share it.
    let database: DatabaseQueue
    /// The SQLite file.
    public let path: String

    /// Opens (creating if needed) the checkpoint database in the state folder.
    /// - Parameter verify: run SQLite's `quick_check` first, so that damage is found before a tail reads anything. It
    ///   reads the whole file (a second or so for a queue of a million entries): commands that only look at or tend
    ///   the deletion queue pass false, and a damaged page they touch still fails as `damaged`.
    public init(stateFolder: String, verify: Bool = true) throws {
        try FileSystem.makeFolders(stateFolder)
        path = FileSystem.absolute(stateFolder) + "/archiver.sqlite"
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Queue entries, coordinations and outbox events are keyed by hashes, so a batch's inserts land on pages
            // all over their indexes: a page cache of 16 MiB (SQLite's default is 2 MiB) keeps them in memory
            // instead of reading them back from the file for every insert.
            try db.execute(sql: "PRAGMA cache_size = -16384")
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8192")
            // A statement that may stop half-way (an insert whose trigger keeps the queue's counts) copies each page
            // it changes into a statement journal first: in memory, not a temporary file written page by page (four
            // times as many writes as the WAL itself got in a tail that enqueues held actions).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        configuration.busyMode = .timeout(10)
        do {
            // SQLite creates a database 0644 and gives its -wal and -shm files the database's mode: create it
            // owner-only first, and tighten the files of a state folder made before this was done.
            try FileSystem.createPrivateFile(path)
            database = try DatabaseQueue(path: path, configuration: configuration)
            for file in [path, path + "-wal", path + "-shm"] { FileSystem.restrictToOwner(file) }
            var migrator = DatabaseMigrator()
            migrator.registerMigration("checkpoints") { db in
                try db.execute(sql: """
                    CREATE TABLE checkpoints (
                        source TEXT NOT NULL,
                        partition TEXT NOT NULL,
                        position TEXT NOT NULL,
                        updated_at TEXT NOT NULL,
                        PRIMARY KEY (source, partition)
                    )
                    """)
            }
            migrator.registerMigration("gaps") { db in
                try db.execute(sql: """
                    CREATE TABLE gaps (
                        id INTEGER PRIMARY KEY,
                        source TEXT NOT NULL,
                        partition TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        noticed_at TEXT NOT NULL
                    )
                    """)
            }
            for table in StateTables.migrations { migrator.registerMigration(table.name, migrate: table.migrate) }
            try migrator.migrate(database)
            // It finds damage now rather than half-way through a run.
            if verify {
                let check = try database.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
                if check != ["ok"] {
                    throw Self.damaged(path, check.prefix(3).joined(separator: "; "))
                }
            }
        } catch let error as DatabaseError {
            throw Self.describe(error, path: path, doing: "open")
        }
    }

    /// A damaged database: say which file, why it is not repaired, and how to start over without losing anything.
    static func damaged(_ path: String, _ problem: String) -> StateError {
        StateError.damaged("the checkpoint database \(path) is damaged (\(problem)), so where each source had got to cannot be read. "
            + "archiver does not repair it itself: a guess could move a checkpoint past records that were never archived. "
            + "Move it aside (mv \(path) \(path).damaged, and its -wal and -shm files if there are any) and run again: "
            + "each source then starts from its beginning (a file from its first line, a change table from its first row, "
            + "a stream from its oldest record), and the replayed records rewrite the same objects and dead-letter entries, "
            + "so nothing is lost or duplicated")
    }

    /// A StateError for a failed database call: damage as `damaged`, anything else with SQLite's words.
    static func describe(_ error: any Error, path: String, doing operation: String) -> any Error {
        if let error = error as? StateError { return error }
        guard let error = error as? DatabaseError else { return StateError.unusable("cannot \(operation) the checkpoint database \(path): \(error)") }
        let message = error.message ?? "\(error)"
        if error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
            return damaged(path, message)
        }
        return StateError.unusable("cannot \(operation) the checkpoint database \(path): \(message)\(advice(error) ?? "")")
    }

    /// What a person can do about a database error that is not damage: a full disk, a folder that cannot be written.
    static func advice(_ error: DatabaseError) -> String? {
        switch error.resultCode.primaryResultCode {
        case .SQLITE_FULL: return "; the disk is full: free some space, then run again"
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_CANTOPEN, .SQLITE_AUTH:
            return "; check the permissions of that folder (it may be read-only or immutable), then run again"
        default: return nil
        }
    }

    func reading<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try database.read(body) } catch { throw Self.describe(error, path: path, doing: "read") }
    }

    func writing(_ body: (Database) throws -> Void) throws {
        do { try database.write(body) } catch { throw Self.describe(error, path: path, doing: "write to") }
    }

    /// Every partition's checkpoint for a source.
    public func checkpoints(source: String) throws -> [String: String] {
        try reading { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT partition, position FROM checkpoints WHERE source = ?", arguments: [source]) {
                result[row["partition"]] = row["position"]
            }
            return result
        }
    }

    /// Saves a checkpoint (durably, before returning).
    public func save(source: String, partition: String, position: String, at date: Date = Date()) throws {
        try commit(BatchCommit(source: source, partition: partition, position: position, at: date))
    }

    /// Runs a batch's writes (``CommitWrite``) and saves its checkpoint, in one transaction, durably before
    /// returning: all of it is saved, or none.
    public func commit(_ batch: BatchCommit) throws {
        try writing { db in
            for write in batch.writes { try write.write(db, at: batch.date) }
            try db.execute(
                sql: """
                    INSERT INTO checkpoints (source, partition, position, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (source, partition) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
                    """,
                arguments: [batch.source, batch.partition, batch.position, ISO8601DateFormatter().string(from: batch.date)])
        }
    }

    /// Records a gap: records a source could no longer supply (e.g. trimmed from a stream while stopped).
    public func recordGap(source: String, partition: String, detail: String, at date: Date = Date()) throws {
        try writing { db in
            try db.execute(
                sql: "INSERT INTO gaps (source, partition, detail, noticed_at) VALUES (?, ?, ?, ?)",
                arguments: [source, partition, detail, ISO8601DateFormatter().string(from: date)])
        }
    }

    /// Recorded gaps, oldest first.
    public func gaps() throws -> [(source: String, partition: String, detail: String, noticedAt: String)] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT source, partition, detail, noticed_at FROM gaps ORDER BY id").map {
                (source: $0["source"], partition: $0["partition"], detail: $0["detail"], noticedAt: $0["noticed_at"])
            }
        }
    }
}

/// A problem with the state folder (checkpoints, dead letters). Says what to do.
///
/// Code that must tell problems apart matches ``kind``:
/// ```swift
/// catch let error as StateError where error.kind == .damaged { … }
/// ```
public struct StateError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is, for matching in code.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case damaged, unusable, noDeadLetter, invalidDeadLetterID
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A state file is damaged (a checkpoint database SQLite cannot read, a dead-letter entry cut short).
        /// It is never repaired behind one's back: the description says how to start over safely.
        public static let damaged = Kind(.damaged)
        /// The state folder cannot be used now (a full disk, a folder that cannot be written, a busy database):
        /// once that is fixed, running again goes on from the last checkpoint.
        public static let unusable = Kind(.unusable)
        /// There is no dead-letter entry with that id.
        public static let noDeadLetter = Kind(.noDeadLetter)
        /// The text given is not a dead-letter id.
        public static let invalidDeadLetterID = Kind(.invalidDeadLetterID)

        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public let kind: Kind
    /// What is wrong, naming the file or folder, and what to do.
    public let description: String

    private init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// A damaged state file: `description` names it, says what is wrong and how to start over safely.
    public static func damaged(_ description: String) -> StateError { StateError(.damaged, description) }

    /// The state folder cannot be used now: `description` names what failed and what to do.
    public static func unusable(_ description: String) -> StateError { StateError(.unusable, description) }

    /// No dead-letter entry `id` in the dead-letter folder `folder`.
    public static func noDeadLetter(_ id: String, in folder: String) -> StateError {
        StateError(.noDeadLetter, "no dead-letter entry '\(id)' in \(folder); `archiver dlq list` shows them")
    }

    /// `id` is not a dead-letter id.
    public static func invalidDeadLetterID(_ id: String) -> StateError {
        StateError(.invalidDeadLetterID, "'\(id)' is not a dead-letter id; `archiver dlq list` shows them")
    }

    /// The same problem with more said after its description.
    public func adding(_ more: String) -> StateError { StateError(kind, description + more) }
}
