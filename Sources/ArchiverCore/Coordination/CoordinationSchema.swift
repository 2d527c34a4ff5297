import GRDB

/// The tables of coordinated deletion and of the event outbox in the state database (`archiver.sqlite`).
///
/// - `coordinations`: one row per coordinated deletion (a rule with `coordinate:` that took an archived record);
///   its actions wait in `queue_entries` as `held` entries whose `hold` is the coordination's id.
/// - `coordination_consumers`: the consumers each coordination waits for, as the rule named them when it was made,
///   with their acks, heartbeats and deadlines.
/// - `outbox_events`: events in the order they were written (`seq`), each a CloudEvents envelope.
/// - `outbox_targets`: how far each delivery target has got (`delivered_seq`), its retry state, and whether it was
///   disabled (410 Gone); `outbox_parked`: events a target refused for good, with the reason.
enum CoordinationSchema {
    static let migrationName = "coordinations"

    static let detailMigrationName = "coordinations_detail"

    /// `coordinations.detail`: what the `deletion.requested` event says besides the row (``RequestedEvent``), so its
    /// outbox row need not hold the envelope (rows written before it keep theirs).
    @Sendable static func addDetail(_ db: Database) throws {
        try db.execute(sql: "ALTER TABLE coordinations ADD COLUMN detail TEXT")
    }

    static let outboxIDsMigrationName = "outbox_event_ids"

    /// `outbox_events` without the UNIQUE constraint on `id`, which put every event into a B-tree keyed by a hash (a
    /// random page written per event). Ids stay unique: a `deletion.requested` row (no envelope) is appended only by
    /// the transaction that inserted its coordination, so never twice, and every other event goes through a unique
    /// index that holds only the rows with an envelope (``Outbox/append(_:id:type:subject:time:envelope:at:)``).
    @Sendable static func dropOutboxUniqueIDs(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE outbox_events_new (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL,
                type TEXT NOT NULL,
                subject TEXT NOT NULL,
                time TEXT NOT NULL,
                envelope TEXT NOT NULL,
                created_at REAL NOT NULL
            );
            INSERT INTO outbox_events_new (seq, id, type, subject, time, envelope, created_at)
                SELECT seq, id, type, subject, time, envelope, created_at FROM outbox_events ORDER BY seq;
            DROP TABLE outbox_events;
            ALTER TABLE outbox_events_new RENAME TO outbox_events;
            CREATE UNIQUE INDEX outbox_events_id ON outbox_events (id) WHERE envelope <> '';
            """)
    }

    @Sendable static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE coordinations (
                id TEXT PRIMARY KEY NOT NULL,
                rule TEXT NOT NULL,
                source TEXT NOT NULL,
                table_name TEXT,
                archive_key TEXT NOT NULL,
                item_key TEXT NOT NULL,
                deletion_kind TEXT NOT NULL,
                deleted_at TEXT NOT NULL,
                state TEXT NOT NULL,
                reason TEXT,
                created_at REAL NOT NULL,
                cap_at REAL NOT NULL,
                next_deadline REAL,
                released_at REAL,
                completed_at REAL,
                warnings INTEGER NOT NULL DEFAULT 0
            );
            CREATE INDEX coordinations_due ON coordinations (state, next_deadline);
            CREATE TABLE coordination_consumers (
                coordination TEXT NOT NULL,
                consumer TEXT NOT NULL,
                position INTEGER NOT NULL,
                critical INTEGER NOT NULL,
                timeout REAL NOT NULL,
                on_timeout TEXT NOT NULL,
                status TEXT NOT NULL,
                deadline REAL NOT NULL,
                heartbeats INTEGER NOT NULL DEFAULT 0,
                last_heartbeat_at REAL,
                acked_at REAL,
                detail TEXT,
                late_status TEXT,
                late_at REAL,
                late_detail TEXT,
                PRIMARY KEY (coordination, consumer)
            ) WITHOUT ROWID;
            CREATE TABLE outbox_events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL,
                subject TEXT NOT NULL,
                time TEXT NOT NULL,
                envelope TEXT NOT NULL,
                created_at REAL NOT NULL
            );
            CREATE TABLE outbox_targets (
                target TEXT PRIMARY KEY NOT NULL,
                delivered_seq INTEGER NOT NULL DEFAULT 0,
                delivered INTEGER NOT NULL DEFAULT 0,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at REAL NOT NULL DEFAULT 0,
                last_error TEXT,
                disabled TEXT
            ) WITHOUT ROWID;
            CREATE TABLE outbox_parked (
                target TEXT NOT NULL,
                event TEXT NOT NULL,
                reason TEXT NOT NULL,
                at REAL NOT NULL,
                PRIMARY KEY (target, event)
            ) WITHOUT ROWID;
            CREATE INDEX queue_entries_hold ON queue_entries (hold) WHERE hold IS NOT NULL;
            """)
    }
}
