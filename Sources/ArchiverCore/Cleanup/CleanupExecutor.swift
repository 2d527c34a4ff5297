import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Carries out a `CleanupPlan` and counts what it did. Every action is logged (info level, structured), so a run
/// leaves an audit trail; every failure is counted as an error and kept in the problems, and the run goes on.
public struct CleanupExecutor: Sendable {
    /// The root the plan's objects and uploads are under (nil for housekeeping plans).
    public var root: (any CleanupRoot)?
    /// The deletion queue, for `removeCompletedQueueEntries`.
    public var queue: (any CompletedQueueEntries)?
    /// How many aborts are in flight at once.
    public var concurrency: Int
    public var logger: Logger

    public init(root: (any CleanupRoot)?, queue: (any CompletedQueueEntries)? = nil, concurrency: Int = 8, logger: Logger = Logger(label: "archiver.cleanup")) {
        self.root = root
        self.queue = queue
        self.concurrency = max(1, concurrency)
        self.logger = logger
    }

    /// The most keys one delete call takes (S3's DeleteObjects limit).
    public static let deleteBatch = 1000

    /// Does what `plan` says; returns the counts of what was done and what went wrong.
    public func execute(_ plan: CleanupPlan) async -> (done: CleanupCounts, problems: [CleanupProblem]) {
        var done = CleanupCounts()
        var problems: [CleanupProblem] = []
        func fail(_ subject: String, _ error: String) {
            done.errors += 1
            problems.append(CleanupProblem(root: plan.place, subject: subject, error: error))
        }

        // Objects: batches of up to 1,000 keys.
        let deletions = plan.actions.compactMap { action -> (CleanupObject, String)? in
            if case .deleteObject(let object, let reason) = action { return (object, reason) }
            return nil
        }
        if !deletions.isEmpty, let root {
            var start = 0
            while start < deletions.count {
                let batch = Array(deletions[start..<min(start + Self.deleteBatch, deletions.count)])
                start += batch.count
                do {
                    let failures = try await root.delete(batch.map(\.0.key))
                    for (object, reason) in batch {
                        if let failure = failures[object.key] {
                            fail(object.key, "not deleted: \(failure)")
                        } else {
                            done.count(done: .deleteObject(object, reason: reason))
                            logger.info(
                                "deleted an object whose owner is gone",
                                metadata: ["cleanup.root": "\(plan.place)", "cleanup.key": "\(object.key)", "cleanup.reason": "\(reason)", "cleanup.bytes": "\(object.size)"])
                        }
                    }
                } catch {
                    for (object, _) in batch { fail(object.key, "not deleted: \(error)") }
                }
            }
        }

        // Uploads: aborted concurrently; those with parts and no --abort-partial are only reported.
        var aborts: [(CleanupUpload, CleanupUploadParts)] = []
        for action in plan.actions {
            switch action {
            case .abortUpload(let upload, let parts): aborts.append((upload, parts))
            case .keepUpload(let upload, let parts):
                done.count(done: action)
                logger.notice(
                    "kept a stale multipart upload that holds parts, for review (--abort-partial aborts it)",
                    metadata: [
                        "cleanup.root": "\(plan.place)", "cleanup.key": "\(upload.key)", "cleanup.upload_id": "\(upload.uploadID)",
                        "cleanup.parts": "\(parts.count)", "cleanup.bytes": "\(parts.bytes)",
                    ])
            default: break
            }
        }
        if !aborts.isEmpty, let root {
            let pending = aborts
            let outcomes = await withTaskGroup(of: (Int, Result<Bool, any Error>).self) { group in
                var outcomes = [Result<Bool, any Error>?](repeating: nil, count: aborts.count)
                var next = 0
                func add() {
                    let index = next
                    next += 1
                    group.addTask { (index, await Result(awaiting: { try await root.abort(pending[index].0) })) }
                }
                while next < aborts.count && next < concurrency { add() }
                while let (index, outcome) = await group.next() {
                    outcomes[index] = outcome
                    if next < aborts.count { add() }
                }
                return outcomes
            }
            for ((upload, parts), outcome) in zip(aborts, outcomes) {
                switch outcome ?? .failure(NoAnswer()) {
                case .success(true):
                    done.count(done: .abortUpload(upload, parts: parts))
                    logger.info(
                        "aborted a stale multipart upload",
                        metadata: ["cleanup.root": "\(plan.place)", "cleanup.key": "\(upload.key)", "cleanup.upload_id": "\(upload.uploadID)", "cleanup.bytes": "\(parts.bytes)"])
                case .success(false):
                    // NoSuchUpload: completed or aborted since it was listed; nothing left to do.
                    logger.info("the upload was gone already", metadata: ["cleanup.key": "\(upload.key)", "cleanup.upload_id": "\(upload.uploadID)"])
                case .failure(let error):
                    fail("upload \(upload.uploadID) of \(upload.key)", "not aborted: \(error)")
                }
            }
        }

        // Housekeeping.
        for action in plan.actions {
            switch action {
            case .removeTemporaryFile(let file):
                // Checked again: a process with that id may have started since the plan was made.
                if FileSystem.isLiveProcess(file.pid) { continue }
                if unlink(file.path) != 0 && errno != ENOENT {
                    fail(file.path, FileSystem.Failure(operation: "delete", path: file.path, code: errno).description)
                } else {
                    done.count(done: action)
                    logger.info("removed a temporary file of a process that died", metadata: ["cleanup.path": "\(file.path)", "cleanup.pid": "\(file.pid)"])
                }
            case .removeDeadLetter(let removal):
                do {
                    let folder = try DeadLetterFolder(stateFolder: removal.stateFolder, access: .readOnly)
                    if try await folder.removeIfLastFailed(before: removal.cutoff, id: removal.id) {
                        done.count(done: action)
                        logger.info(
                            "removed a dead letter past its retention",
                            metadata: ["cleanup.dead_letter": "\(removal.id)", "cleanup.last_failed_at": "\(removal.lastFailedAt)"])
                    }
                } catch {
                    fail("dead letter \(removal.id)", "\(error)")
                }
            case .removeCompletedQueueEntries(_, let before):
                guard let queue else {
                    fail("deletion queue", "there is no deletion queue to remove completed entries from")
                    continue
                }
                do {
                    let removed = try await queue.removeCompleted(before: before)
                    done.count(done: .removeCompletedQueueEntries(count: removed, before: before))
                    logger.info("removed completed deletion-queue entries", metadata: ["cleanup.entries": "\(removed)", "cleanup.completed_before": "\(before)"])
                } catch {
                    fail("deletion queue", "\(error)")
                }
            default:
                break
            }
        }
        return (done, problems)
    }
}
