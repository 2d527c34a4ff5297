import GRDB

/// The deletion queue's tables in the state database (`archiver.sqlite`).
///
/// `queue_entries` holds one row per action of an archived deletion. `queue_counts` holds how many entries have
/// each (state, attempts, last error code), kept by triggers as entries are inserted, changed and deleted, so
/// `queue stats` reads a handful of rows whatever the queue's length (a GROUP BY over a million entries takes
/// most of a 100 ms budget on a loaded machine even through a covering index).
enum QueueSchema {
    static let migrationName = "queue_entries"

    @Sendable static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE queue_entries (
                id TEXT PRIMARY KEY NOT NULL,
                rule TEXT NOT NULL,
                action_index INTEGER NOT NULL,
                action TEXT NOT NULL,
                root TEXT NOT NULL,
                target TEXT NOT NULL,
                source TEXT NOT NULL,
                archive_key TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                max_attempts INTEGER NOT NULL,
                next_attempt_at REAL NOT NULL,
                leased_until REAL,
                lease_owner TEXT,
                last_error TEXT,
                last_error_code TEXT,
                errors TEXT NOT NULL DEFAULT '[]',
                created_at REAL NOT NULL,
                completed_at REAL,
                hold TEXT,
                outcome TEXT
            );
            CREATE INDEX queue_entries_due ON queue_entries (state, next_attempt_at);
            CREATE INDEX queue_entries_waiting ON queue_entries (state, created_at);
            CREATE TABLE queue_counts (
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                error_code TEXT NOT NULL,
                entries INTEGER NOT NULL,
                PRIMARY KEY (state, attempts, error_code)
            ) WITHOUT ROWID;
            CREATE TRIGGER queue_counts_insert AFTER INSERT ON queue_entries BEGIN
                INSERT INTO queue_counts VALUES (NEW.state, NEW.attempts, COALESCE(NEW.last_error_code, ''), 1)
                    ON CONFLICT (state, attempts, error_code) DO UPDATE SET entries = entries + 1;
            END;
            CREATE TRIGGER queue_counts_delete AFTER DELETE ON queue_entries BEGIN
                UPDATE queue_counts SET entries = entries - 1
                    WHERE state = OLD.state AND attempts = OLD.attempts AND error_code = COALESCE(OLD.last_error_code, '');
            END;
            CREATE TRIGGER queue_counts_update AFTER UPDATE OF state, attempts, last_error_code ON queue_entries
                WHEN OLD.state IS NOT NEW.state OR OLD.attempts IS NOT NEW.attempts OR OLD.last_error_code IS NOT NEW.last_error_code
            BEGIN
                UPDATE queue_counts SET entries = entries - 1
                    WHERE state = OLD.state AND attempts = OLD.attempts AND error_code = COALESCE(OLD.last_error_code, '');
                INSERT INTO queue_counts VALUES (NEW.state, NEW.attempts, COALESCE(NEW.last_error_code, ''), 1)
                    ON CONFLICT (state, attempts, error_code) DO UPDATE SET entries = entries + 1;
            END;
            """)
    }

    /// The columns read into a ``QueueEntry``, in the order its `init(row:)` reads them by position.
    static let columns = """
        id, rule, action_index, action, root, target, source, archive_key, state, attempts, max_attempts, next_attempt_at,
        leased_until, lease_owner, last_error, last_error_code, errors, created_at, completed_at, hold, outcome
        """
}
