import Foundation

/// The deletion queue's completed entries, as cleanup's retention sees them.
///
/// The deletion queue (in the state database) conforms to this; cleanup only calls it. The command line wires it
/// in `Wiring.completedQueueEntries(stateFolder:)`.
public protocol CompletedQueueEntries: Sendable {
    /// How many entries completed before `cutoff` (what a dry run reports).
    func countCompleted(before cutoff: Date) async throws -> Int

    /// Removes the entries completed before `cutoff`, and only those (never one waiting, running, failed or parked).
    /// - Returns: how many were removed.
    func removeCompleted(before cutoff: Date) async throws -> Int
}

/// A dead letter past its retention, to remove.
public struct DeadLetterRemoval: Sendable, Equatable {
    /// The state folder it is in.
    public var stateFolder: String
    public var id: String
    /// When it last failed, as its entry says.
    public var lastFailedAt: String
    /// It is removed only if it still last failed before this when it is removed.
    public var cutoff: Date

    public init(stateFolder: String, id: String, lastFailedAt: String, cutoff: Date) {
        self.stateFolder = stateFolder
        self.id = id
        self.lastFailedAt = lastFailedAt
        self.cutoff = cutoff
    }
}

/// archiver's own leftovers: temporary files of processes that died, dead letters and completed queue entries past
/// their retention.
public struct Housekeeping: Sendable {
    /// A local archive folder: its `.tmp/` files of dead writers.
    public var archiveFolder: String?
    /// The state folder: its dead letters' `.tmp/` files of dead writers, and the dead letters past retention.
    public var stateFolder: String?
    /// Files written by `sync --jsonl`: their `<file>.tmp-<pid>` leftovers of dead processes.
    public var syncJSONLines: [String]
    /// Dead letters whose last failure is older than this are removed; nil keeps them all (the default).
    public var deadLetterRetention: TimeInterval?
    /// Deletion-queue entries completed longer ago than this are removed; nil keeps them all.
    public var queueRetention: TimeInterval?
    /// The deletion queue, when there is one.
    public var queue: (any CompletedQueueEntries)?

    public init(
        archiveFolder: String? = nil, stateFolder: String? = nil, syncJSONLines: [String] = [], deadLetterRetention: TimeInterval? = nil,
        queueRetention: TimeInterval? = nil, queue: (any CompletedQueueEntries)? = nil
    ) {
        self.archiveFolder = archiveFolder.map(FileSystem.absolute)
        self.stateFolder = stateFolder.map(FileSystem.absolute)
        self.syncJSONLines = syncJSONLines.map(FileSystem.absolute)
        self.deadLetterRetention = deadLetterRetention
        self.queueRetention = queueRetention
        self.queue = queue
    }

    /// Whether there is anything to look at.
    public var isEmpty: Bool { archiveFolder == nil && stateFolder == nil && syncJSONLines.isEmpty }

    /// What to remove, one plan per place (the archive folder, the state folder, each `sync --jsonl` file). Reads only.
    public func plans(now: Date) async -> [CleanupPlan] {
        var plans: [CleanupPlan] = []
        if let archiveFolder {
            plans.append(CleanupPlan(place: archiveFolder, actions: LocalArchiveStore.abandonedTemporaryFiles(root: archiveFolder).map { .removeTemporaryFile($0) }))
        }
        if let stateFolder {
            var plan = CleanupPlan(
                place: stateFolder,
                actions: LocalArchiveStore.abandonedTemporaryFiles(root: stateFolder + "/dead-letters").map { .removeTemporaryFile($0) })
            if let retention = deadLetterRetention {
                let cutoff = now.addingTimeInterval(-retention)
                do {
                    let (entries, _) = try await DeadLetterFolder(stateFolder: stateFolder, access: .readOnly).scan()
                    for entry in entries {
                        guard let last = DeadLetterFolder.lastFailure(of: entry), last < cutoff else { continue }
                        plan.actions.append(
                            .removeDeadLetter(DeadLetterRemoval(stateFolder: stateFolder, id: entry.id, lastFailedAt: entry.lastFailedAt, cutoff: cutoff)))
                    }
                } catch {
                    plan.counts.errors += 1
                    plan.problems.append(CleanupProblem(root: stateFolder, subject: "dead letters", error: "\(error)"))
                }
            }
            if let retention = queueRetention {
                let cutoff = now.addingTimeInterval(-retention)
                if let queue {
                    do {
                        let count = try await queue.countCompleted(before: cutoff)
                        if count > 0 { plan.actions.append(.removeCompletedQueueEntries(count: count, before: cutoff)) }
                    } catch {
                        plan.counts.errors += 1
                        plan.problems.append(CleanupProblem(root: stateFolder, subject: "deletion queue", error: "\(error)"))
                    }
                } else {
                    plan.counts.errors += 1
                    plan.problems.append(
                        CleanupProblem(root: stateFolder, subject: "deletion queue", error: "there is no deletion queue to remove completed entries from"))
                }
            }
            plans.append(plan)
        }
        for file in syncJSONLines {
            plans.append(CleanupPlan(place: file, actions: FileSystem.abandonedTemporaries(of: file).map { .removeTemporaryFile($0) }))
        }
        return plans
    }

    /// Before a real run: finishes the dead-letter removals a killed cleanup left half-done (without a retention
    /// now, every entry moved aside is put back).
    public func prepare(now: Date) async throws {
        guard let stateFolder else { return }
        let folder = try DeadLetterFolder(stateFolder: stateFolder, access: .readOnly)
        try await folder.finishInterruptedRemovals(before: deadLetterRetention.map { now.addingTimeInterval(-$0) } ?? .distantPast)
    }

    /// After a real run: removes the temporary folders left empty.
    public func tidy() {
        if let archiveFolder { LocalArchiveStore.removeEmptyTemporaryFolders(root: archiveFolder) }
        if let stateFolder { LocalArchiveStore.removeEmptyTemporaryFolders(root: stateFolder + "/dead-letters") }
    }
}
