import Foundation
import GRDB

/// Erasure's tables in the state database (`archiver.sqlite`).
///
/// - `subject_index` (first layout, replaced by `subject_log` and `subject_groups`: see ``SubjectIndex``): for each
///   archived record whose rule names a subject, the subject's HMAC (never the subject), the record's archive key,
///   and for a batched archive the key of the index of the object holding it (stable across rewrites). Written in
///   the commit transaction; an entry is removed once its record is erased.
/// - `erasure_suppressions`: subjects erased, whose later records are not archived (until lifted, recorded).
/// - `erasure_jobs`: one row per erasure job, with its state, plan and counts.
/// - `erasure_events`: one row per object changed or failed, per job.
/// - `sync_copies`: which months `sync` copied where (and when), for the receipts' list of analysis copies.
/// - `erasure_receipts`: the hash chain over the receipts, in the order they were written.
enum ErasureSchema {
    static let migrationName = "erasure"

    @Sendable static func migrate(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE subject_index (
                subject_hmac TEXT NOT NULL,
                archive_key TEXT NOT NULL,
                object_key TEXT,
                archived_at REAL NOT NULL,
                PRIMARY KEY (subject_hmac, archive_key)
            ) WITHOUT ROWID;
            CREATE TABLE erasure_suppressions (
                subject_hmac TEXT PRIMARY KEY NOT NULL,
                job_id TEXT NOT NULL,
                since REAL NOT NULL,
                lifted_at REAL,
                lifted_reason TEXT
            );
            CREATE TABLE erasure_jobs (
                id TEXT PRIMARY KEY NOT NULL,
                subject_hmac TEXT NOT NULL,
                state TEXT NOT NULL,
                requested_at REAL NOT NULL,
                not_before REAL NOT NULL,
                started_at REAL,
                finished_at REAL,
                cancel_requested INTEGER NOT NULL DEFAULT 0,
                lease_owner TEXT,
                leased_until REAL,
                origin TEXT NOT NULL,
                actions TEXT NOT NULL,
                counts TEXT NOT NULL DEFAULT '{}',
                error TEXT
            );
            CREATE INDEX erasure_jobs_due ON erasure_jobs (state, not_before);
            CREATE TABLE erasure_events (
                id INTEGER PRIMARY KEY,
                job_id TEXT NOT NULL,
                at REAL NOT NULL,
                store TEXT NOT NULL,
                operation TEXT NOT NULL,
                key TEXT NOT NULL,
                storage_class TEXT,
                outcome TEXT NOT NULL,
                detail TEXT,
                request_id TEXT,
                size INTEGER,
                early_deletion_usd REAL
            );
            CREATE INDEX erasure_events_job ON erasure_events (job_id, id);
            CREATE TABLE sync_copies (
                month TEXT NOT NULL,
                destination TEXT NOT NULL,
                jsonl TEXT,
                archive TEXT NOT NULL,
                copied_at REAL NOT NULL,
                PRIMARY KEY (month, destination)
            );
            CREATE TABLE erasure_receipts (
                seq INTEGER PRIMARY KEY,
                job_id TEXT NOT NULL UNIQUE,
                sha256 TEXT NOT NULL,
                previous TEXT NOT NULL
            );
            """)
    }
}

/// One archived record's subject, for the index.
public struct SubjectMark: Sendable, Equatable {
    /// HMAC-SHA256 of the subject (``SubjectKey/hmac(_:)``).
    public var hmac: String
    /// The record's archive key.
    public var archiveKey: String
    /// A batched archive's index key of the object holding the record (nil in a per-record archive).
    public var objectKey: String?

    public init(hmac: String, archiveKey: String, objectKey: String? = nil) {
        self.hmac = hmac
        self.archiveKey = archiveKey
        self.objectKey = objectKey
    }
}

/// A batch's subject-index rows, written in its commit transaction (``CommitWrite``). A row that is there
/// already (a replayed batch) is left as it is.
///
/// A record of a subject erased while it was being archived (its suppression came after the commit stage checked,
/// and before this transaction) is indexed as any other and a follow-up erasure job is queued for its subject in the
/// same transaction: the next `erase` / `queue run` removes it, so no record of an erased subject survives.
public struct SubjectIndexWrite: CommitWrite {
    public var marks: [SubjectMark]

    public init(marks: [SubjectMark]) { self.marks = marks }

    public func write(_ db: Database, at date: Date) throws {
        try SubjectIndex.append(db, marks, at: date)
        guard try ErasureJobs.anySuppressed(db) else { return }
        let subjects = Array(Set(marks.map(\.hmac)))
        guard !subjects.isEmpty else { return }
        var late: [String] = []
        for start in stride(from: 0, to: subjects.count, by: 500) {
            let chunk = Array(subjects[start..<min(subjects.count, start + 500)])
            late += try String.fetchAll(
                db, sql: "SELECT subject_hmac FROM erasure_suppressions WHERE lifted_at IS NULL AND subject_hmac IN (\(databaseQuestionMarks(count: chunk.count)))",
                arguments: StatementArguments(chunk))
        }
        for subject in late {
            try ErasureJobs.insertFollowUp(db, subject: subject, at: date)
        }
    }
}
