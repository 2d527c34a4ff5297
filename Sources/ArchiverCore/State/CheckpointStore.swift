import Foundation
import GRDB

/// Where each source has got to, kept in `<state>/archiver.sqlite`.
///
/// A checkpoint is saved only after everything before it is durable (archived or dead-lettered), in a
/// synchronous SQLite transaction: a crash leaves the last saved checkpoint, never a half-written one.
public final class CheckpointStore: Sendable {
    private let database: DatabaseQueue
    /// The SQLite file.
    public let path: String

    /// Opens (creating if needed) the checkpoint database in the state folder.
    public init(stateFolder: String) throws {
        try FileSystem.makeFolders(stateFolder)
        path = stateFolder + "/archiver.sqlite"
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
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
            try migrator.migrate(database)
        } catch let error as DatabaseError {
            throw StateError("the checkpoint database \(path) cannot be opened: \(error.message ?? "\(error)"). "
                + "If it is damaged, move it aside: the next run starts from the beginning of each source, and replays write the same objects")
        }
    }

    /// Every partition's checkpoint for a source.
    public func checkpoints(source: String) throws -> [String: String] {
        try database.read { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT partition, position FROM checkpoints WHERE source = ?", arguments: [source]) {
                result[row["partition"]] = row["position"]
            }
            return result
        }
    }

    /// Saves a checkpoint (durably, before returning).
    public func save(source: String, partition: String, position: String, at date: Date = Date()) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO checkpoints (source, partition, position, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (source, partition) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
                    """,
                arguments: [source, partition, position, ISO8601DateFormatter().string(from: date)])
        }
    }

    /// Records a gap: records a source could no longer supply (e.g. trimmed from a stream while stopped).
    public func recordGap(source: String, partition: String, detail: String, at date: Date = Date()) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO gaps (source, partition, detail, noticed_at) VALUES (?, ?, ?, ?)",
                arguments: [source, partition, detail, ISO8601DateFormatter().string(from: date)])
        }
    }

    /// Recorded gaps, oldest first.
    public func gaps() throws -> [(source: String, partition: String, detail: String, noticedAt: String)] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT source, partition, detail, noticed_at FROM gaps ORDER BY id").map {
                (source: $0["source"], partition: $0["partition"], detail: $0["detail"], noticedAt: $0["noticed_at"])
            }
        }
    }
}

/// A problem with the state folder (checkpoints, dead letters). Says what to do.
public struct StateError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
