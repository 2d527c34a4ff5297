import Foundation
import GRDB

extension ErasureStore {
    /// Erasure jobs by state (every state listed).
    public func stateCounts() throws -> [ErasureJobState: Int] {
        try reading { db in
            var counts = Dictionary(uniqueKeysWithValues: ErasureJobState.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM erasure_jobs GROUP BY state") {
                if let state = ErasureJobState(rawValue: row["state"]) { counts[state] = row["n"] }
            }
            return counts
        }
    }

    /// Archived objects (and versions) every job has erased: deleted or rewritten without the subject (from the jobs'
    /// counts, one row a job, rather than their events).
    public func objectsErased() throws -> Int {
        try reading { db in
            try Int.fetchOne(db, sql: """
                SELECT COALESCE(SUM(COALESCE(json_extract(counts, '$."archive.deleted"'), 0) + COALESCE(json_extract(counts, '$."archive.rewritten"'), 0)), 0)
                FROM erasure_jobs
                """) ?? 0
        }
    }

    /// Whether any job is queued or running (a read; ``claim(_:owner:lease:at:)`` decides which are due).
    public func hasUnfinished() throws -> Bool {
        try reading { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM erasure_jobs WHERE state IN ('queued', 'running') LIMIT 1") ?? false }
    }

    /// The subject's records the index still holds (what a running job has left to erase).
    public func indexedCount(subjectHMAC: String) throws -> Int {
        try reading { db in try SubjectIndex.records(db, subjectHMAC: subjectHMAC).count }
    }
}

extension ErasureStore {
    /// Jobs, newest first, optionally of one state.
    public func jobs(state: ErasureJobState?, limit: Int) throws -> [ErasureJob] {
        guard let state else { return try jobs(limit: limit) }
        return try reading { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM erasure_jobs WHERE state = ? ORDER BY requested_at DESC, id LIMIT ?", arguments: [state.rawValue, limit]
            ).map(Self.job)
        }
    }
}
