import Foundation
import GRDB

/// Cleanup's retention of finished entries (`cleanup.queue-completed-older-than`): the same rows `queue prune`
/// removes, completed and cancelled entries finished before the cutoff, never one still due, running or parked.
extension QueueStore: CompletedQueueEntries {
    public func countCompleted(before cutoff: Date) async throws -> Int {
        try reading { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM queue_entries WHERE \(Self.finishedBefore)", arguments: [cutoff.timeIntervalSince1970]) ?? 0
        }
    }

    public func removeCompleted(before cutoff: Date) async throws -> Int {
        try prune(finishedBefore: cutoff)
    }
}
