import Foundation
import GRDB

/// Where a batched tail stands beyond its checkpoint, per source and partition (table `batch_positions`).
///
/// A batched object still open in memory holds the checkpoint back: the checkpoint stays at the end of the
/// source batch before the object's first record, and `skip` counts the records after the checkpoint that are
/// already done (in earlier objects, passed over or dead-lettered), so that a restart reads on from there and
/// begins the next object at exactly the same record. `pending` names the objects written but not yet covered
/// by the checkpoint (data and index keys): the next start deletes them before reading, since it reads their
/// records again — whatever cut points it then makes (other limits, another gzip level, an end of input
/// reached later), no record is left in two objects.
public struct BatchPosition: Sendable, Equatable {
    public var skip: Int
    public var pending: [String]

    public init(skip: Int = 0, pending: [String] = []) {
        self.skip = skip
        self.pending = pending
    }
}

extension CheckpointStore {
    static func createBatchPositions(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE batch_positions (
                source TEXT NOT NULL,
                partition TEXT NOT NULL,
                skip INTEGER NOT NULL,
                pending TEXT NOT NULL,
                PRIMARY KEY (source, partition)
            )
            """)
    }

    /// Every partition's batch position for a source (partitions without one are at their checkpoint).
    public func batchPositions(source: String) throws -> [String: BatchPosition] {
        try reading { db in
            var result: [String: BatchPosition] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT partition, skip, pending FROM batch_positions WHERE source = ?", arguments: [source]) {
                let pending: String = row["pending"]
                result[row["partition"]] = BatchPosition(skip: row["skip"], pending: pending.split(separator: "\n").map(String.init))
            }
            return result
        }
    }

    /// One partition's new standing: its checkpoint (nil: leave it as it is) and its batch position.
    public struct BatchStanding: Sendable {
        public var partition: String
        public var checkpoint: String?
        public var position: BatchPosition

        public init(partition: String, checkpoint: String?, position: BatchPosition) {
            self.partition = partition
            self.checkpoint = checkpoint
            self.position = position
        }
    }

    /// Saves checkpoints and batch positions of several partitions in one transaction (durably, before returning).
    public func save(source: String, standings: [BatchStanding], writes: [any CommitWrite] = [], at date: Date = Date()) throws {
        guard !standings.isEmpty || !writes.isEmpty else { return }
        let stamp = ISO8601DateFormatter().string(from: date)
        try writing { db in
            for write in writes { try write.write(db, at: date) }
            for standing in standings {
                if let checkpoint = standing.checkpoint {
                    try db.execute(
                        sql: """
                            INSERT INTO checkpoints (source, partition, position, updated_at) VALUES (?, ?, ?, ?)
                            ON CONFLICT (source, partition) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at
                            """,
                        arguments: [source, standing.partition, checkpoint, stamp])
                }
                if standing.position == BatchPosition() {
                    try db.execute(sql: "DELETE FROM batch_positions WHERE source = ? AND partition = ?", arguments: [source, standing.partition])
                } else {
                    try db.execute(
                        sql: """
                            INSERT INTO batch_positions (source, partition, skip, pending) VALUES (?, ?, ?, ?)
                            ON CONFLICT (source, partition) DO UPDATE SET skip = excluded.skip, pending = excluded.pending
                            """,
                        arguments: [source, standing.partition, standing.position.skip, standing.position.pending.joined(separator: "\n")])
                }
            }
        }
    }
}
