import Foundation
import GRDB

/// Rows a batch adds to the state database in the same SQLite transaction that saves its checkpoint.
///
/// The pipeline commits a batch in order: its objects durable, then its dead letters durable, then one
/// transaction (``CheckpointStore/commit(_:)``) that runs every write of the batch and saves the checkpoint.
/// So a row written here exists only for records whose archive object is durable, and a crash leaves either
/// all of a batch's rows and its checkpoint, or none of them.
///
/// Each feature that acts on archived deletions contributes one conformance (deletion queue entries here;
/// coordinations and outbox events, subject-index rows and batched-layout index rows add theirs) and appends it
/// in ``ArchivePipeline``'s `commitWrites` hook; its tables come from a migration listed in ``StateTables``.
public protocol CommitWrite: Sendable {
    /// Writes this contribution's rows, inside the commit transaction.
    ///
    /// A batch replayed after a crash (its checkpoint was not saved) writes again, so a write must be idempotent:
    /// deterministic keys and `INSERT … ON CONFLICT DO NOTHING`. Throwing rolls the whole commit back (the
    /// checkpoint does not move; the batch is replayed on the next run).
    /// - Parameters:
    ///   - db: the open transaction.
    ///   - date: the commit's time (the injected clock's).
    func write(_ db: Database, at date: Date) throws
}

/// One batch's commit: where its source has got to, and the rows that go with it.
public struct BatchCommit: Sendable {
    public var source: String
    public var partition: String
    public var position: String
    public var date: Date
    public var writes: [any CommitWrite]

    public init(source: String, partition: String, position: String, at date: Date, writes: [any CommitWrite] = []) {
        self.source = source
        self.partition = partition
        self.position = position
        self.date = date
        self.writes = writes
    }
}

/// The tables of the features that write in the commit transaction, created (migrated) when the state database
/// is opened, after the checkpoint store's own. A feature adds its migration here, once.
public enum StateTables {
    /// Named migrations, in order; a name is never reused.
    static let migrations: [(name: String, migrate: @Sendable (Database) throws -> Void)] = [
        (QueueSchema.migrationName, QueueSchema.migrate),
        ("batch_positions", { db in try CheckpointStore.createBatchPositions(db) }),
        (CoordinationSchema.migrationName, CoordinationSchema.migrate),
        (ErasureSchema.migrationName, ErasureSchema.migrate),
        (CoordinationSchema.detailMigrationName, CoordinationSchema.addDetail),
        (SubjectIndex.migrationName, SubjectIndex.migrate),
        (BatchCatalogue.migrationName, BatchCatalogue.migrate),
        (CoordinationSchema.outboxIDsMigrationName, CoordinationSchema.dropOutboxUniqueIDs),
        (CoordinationLog.migrationName, CoordinationLog.migrate),
    ]
}
