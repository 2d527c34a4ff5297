import Foundation
import GRDB

/// Erasure jobs seen as deletion-queue entries: `queue list`, `queue stats` and `queue cancel` show and act on
/// waiting jobs beside the queue's entries.
///
/// A job is kept in `erasure_jobs`, not as a row of the queue: it carries its own plan, events and receipt, and it
/// runs as many requests as its subject has records. It is queued all the same: `queue run` (the seed's daily
/// cron) carries out every due job, and a job asked for with `--at` / `--after` waits as a scheduled entry does.
public enum ErasureQueueView {
    /// A job's state in the queue's words: `scheduled` (not due yet), `available` (due), `executing` (running), or
    /// nil once it has ended (completed, failed, cancelled: `erase list` shows those).
    public static func queueState(_ job: ErasureJob, now: Date) -> QueueState? {
        switch job.state {
        case .queued: job.notBefore > now ? .scheduled : .available
        case .running: .executing
        default: nil
        }
    }
}

extension ErasureStore {
    /// The jobs that have not ended (queued, scheduled or running), the soonest due first.
    public func waitingJobs() throws -> [ErasureJob] {
        try reading { db in
            try Row.fetchAll(db, sql: "SELECT * FROM erasure_jobs WHERE state IN ('queued', 'running') ORDER BY not_before, id").map(Self.job)
        }
    }

    /// The ids of the jobs whose id starts with `prefix` (at least `er-` and one digit).
    public func jobIDs(startingWith prefix: String) throws -> [String] {
        guard prefix.hasPrefix("er-"), prefix.count > 3 else { return [] }
        return try reading { db in
            try String.fetchAll(db, sql: "SELECT id FROM erasure_jobs WHERE substr(id, 1, ?) = ? ORDER BY id", arguments: [prefix.count, prefix])
        }
    }
}
