import Foundation
import JSONToolkit
import Logging

/// What a worker did.
public struct QueueRunSummary: Sendable, Equatable, Codable {
    public var batches = 0
    public var claimed = 0
    public var completed = 0
    public var retrying = 0
    public var parked = 0
    /// Entries rescued from workers whose lease had passed.
    public var rescued = 0
    /// Results not recorded because the entry's lease passed meanwhile (another worker took it over).
    public var stale = 0
    public var seconds: Double = 0

    public init() {}

    public static func += (lhs: inout QueueRunSummary, rhs: QueueRunSummary) {
        lhs.batches += rhs.batches
        lhs.claimed += rhs.claimed
        lhs.completed += rhs.completed
        lhs.retrying += rhs.retrying
        lhs.parked += rhs.parked
        lhs.rescued += rhs.rescued
        lhs.stale += rhs.stale
    }

    /// For people: short and aligned.
    public var text: String {
        var rows: [(String, String)] = [
            ("claimed", "\(claimed)  (\(batches) batch\(batches == 1 ? "" : "es"))"),
            ("completed", "\(completed)"), ("retrying", "\(retrying)"), ("parked", "\(parked)"),
        ]
        if rescued > 0 { rows.append(("rescued", "\(rescued)  (leases that had passed)")) }
        if stale > 0 { rows.append(("taken over", "\(stale)  (their lease passed while they ran)")) }
        rows.append(("time", String(format: "%.2f s  (%.0f actions/s)", seconds, seconds > 0 ? Double(claimed) / seconds : 0)))
        return alignedRows(rows)
    }
}

/// Runs the deletion queue: rescues entries whose lease passed, makes due entries available, claims a batch,
/// checks each target again against its root, hands the actions to the executor of their root, and records each
/// result (completed, retryable with backoff, or parked).
public final class QueueWorker: Sendable {
    let store: QueueStore
    let executors: [any ActionExecutor]
    let roots: RootsConfiguration
    let settings: QueueSettings
    let clock: any WallClock
    let backoff: Backoff
    let logger: Logger
    /// Who holds the leases this worker takes (host, pid and a random part).
    public let owner: String
    /// Overrides the entries' max attempts (`queue run --max-attempts`).
    let maxAttempts: Int?
    /// Where actions must never reach: the archive and the state folder.
    let archive: ArchiveLocation?
    let stateFolder: String?
    /// Coordination beside the workers (timeouts, releases, completions, events), stepped before each batch.
    let coordinator: Coordinator?

    public init(store: QueueStore, executors: [any ActionExecutor], roots: RootsConfiguration, settings: QueueSettings,
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(), logger: Logger = Logger(label: "archiver.queue"),
                maxAttempts: Int? = nil, archive: ArchiveLocation? = nil, stateFolder: String? = nil, owner: String? = nil,
                coordinator: Coordinator? = nil) {
        self.coordinator = coordinator
        self.store = store
        self.executors = executors
        self.roots = roots
        self.settings = settings
        self.clock = clock
        self.backoff = Backoff(settings, random: random)
        self.logger = logger
        self.maxAttempts = maxAttempts
        self.archive = archive
        self.stateFolder = stateFolder
        self.owner = owner ?? "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Runs batches until nothing is due (`once`), or until `stop` is set (then finishes the batch in hand).
    /// Idle, it sleeps until the next entry is due, at most `queue.poll`.
    public func run(stop: StopSignal, once: Bool, progress: (@Sendable (QueueRunSummary) -> Void)? = nil) async throws -> QueueRunSummary {
        let started = Date()
        var summary = QueueRunSummary()
        // Acks from the acks queue arrive beside the batches (each receive long-polls).
        let acks = !once && coordinator?.hasAckSource == true ? Task { [coordinator] in await coordinator?.pollAcks(stop: stop) } : nil
        defer { acks?.cancel() }
        var lastSweep: ContinuousClock.Instant?
        while !stop.isStopped {
            // The search for released coordinations whose actions all ended: at the first batch and every few seconds
            // (a batch completes its own coordinations; the search finds those ended otherwise, e.g. cancelled).
            let sweep = lastSweep.map { ContinuousClock.now - $0 >= Self.sweepInterval } ?? true
            if sweep { lastSweep = ContinuousClock.now }
            let batch = try await runBatch(sweep: sweep)
            summary += batch
            summary.seconds = Date().timeIntervalSince(started)
            if batch.claimed > 0 {
                progress?(summary)
                continue
            }
            if once { break }
            let now = clock.now()
            let due = [try store.nextDue(), try coordinator?.store.nextDeadline()].compactMap { $0 }.min()
            let wait = due.map { max(0.01, $0.timeIntervalSince(now)) } ?? settings.poll.seconds
            await stop.sleep(seconds: min(wait, settings.poll.seconds))
        }
        summary.seconds = Date().timeIntervalSince(started)
        return summary
    }

    /// How often a running worker searches all released coordinations for those whose actions have all ended.
    static let sweepInterval = Duration.seconds(5)

    /// Claims and runs one batch: at most `batchSize` entries (default: the settings' `batch-size`). Coordination takes
    /// its step first; with `sweep` false its search of every released coordination waits until a batch finds nothing
    /// to claim.
    public func runBatch(batchSize: Int? = nil, sweep: Bool = true) async throws -> QueueRunSummary {
        var summary = QueueRunSummary()
        if let coordinator {
            do {
                try await coordinator.step(sweep: sweep)
            } catch {
                logger.error("coordination could not take its step; the actions it holds wait", metadata: ["error": "\(error)"])
            }
        }
        let now = clock.now()
        summary.rescued = try store.rescue(now: now, backoff: backoff, maxAttempts: maxAttempts)
        if summary.rescued > 0 {
            logger.warning("rescued queue entries whose worker stopped before finishing them", metadata: ["queue.rescued": "\(summary.rescued)"])
        }
        try store.stage(now: now)
        let claimed = try store.claim(
            limit: batchSize ?? settings.batchSize, owner: owner, leaseUntil: now.addingTimeInterval(settings.lease.seconds))
        guard !claimed.isEmpty else {
            if !sweep, let coordinator {
                do {
                    _ = try coordinator.store.complete(now: now, limit: 1000)
                } catch {
                    logger.error("coordinations could not be completed; the next step completes them", metadata: ["error": "\(error)"])
                }
            }
            return summary
        }
        summary.batches = 1
        summary.claimed = claimed.count

        let started = ContinuousClock.now
        var results = [ActionResult?](repeating: nil, count: claimed.count)
        var seconds = [Double](repeating: 0, count: claimed.count)
        var groups: [Int: [(index: Int, action: PreparedAction)]] = [:]
        for (index, entry) in claimed.enumerated() {
            switch prepare(entry) {
            case .success(let (executor, action)): groups[executor, default: []].append((index, action))
            case .failure(let failure): results[index] = .failed(failure)
            }
        }
        let executors = self.executors
        await withTaskGroup(of: ([(Int, ActionResult)], Double).self) { group in
            for (executor, items) in groups {
                group.addTask {
                    let outcome = await executors[executor].execute(items.map(\.action))
                    return (zip(items.map(\.index), outcome).map { ($0, $1) }, Self.seconds(since: started))
                }
            }
            for await (done, took) in group {
                for (index, result) in done {
                    results[index] = result
                    seconds[index] = took
                }
            }
        }
        let finishedAt = clock.now()
        let pairs = claimed.enumerated().map { (entry: $1, result: results[$0] ?? .failed(ActionFailure(code: "no-result", message: "the executor gave no result"))) }
        let finished = try store.finish(pairs, owner: owner, now: finishedAt, backoff: backoff, maxAttempts: maxAttempts)
        summary.completed = finished.completed
        summary.retrying = finished.retrying
        summary.parked = finished.parked
        summary.stale = finished.stale
        if let coordinator {
            // The coordinations this batch finished: completed now, set-based, rather than found by the next tick.
            let holds = Set(claimed.compactMap(\.hold))
            if !holds.isEmpty {
                do {
                    _ = try coordinator.store.complete(holds, now: finishedAt)
                } catch {
                    logger.error("coordinations could not be completed; the next step completes them", metadata: ["error": "\(error)"])
                }
            }
        }
        for (index, (entry, result)) in pairs.enumerated() {
            guard case .failed(let failure) = result else {
                QueueMetrics.action(rule: entry.rule, action: entry.action, outcome: "completed", seconds: seconds[index])
                continue
            }
            let parked = failure.permanent || entry.attempts >= (maxAttempts ?? entry.maxAttempts)
            QueueMetrics.action(rule: entry.rule, action: entry.action, outcome: parked ? "parked" : "retryable", seconds: seconds[index])
            let metadata: Logger.Metadata = [
                "queue.id": "\(entry.id.prefix(16))", "queue.rule": "\(entry.rule)", "queue.action": "\(entry.action)",
                "queue.target": "\(entry.place)", "queue.attempt": "\(entry.attempts)", "error.code": "\(failure.code)", "error": "\(failure.message)",
            ]
            if parked {
                logger.error("a deletion action was parked; it waits for `archiver queue retry` or `queue cancel`", metadata: metadata)
            } else {
                logger.warning("a deletion action failed; it will be tried again", metadata: metadata)
            }
        }
        return summary
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// The executor and the action for a claimed entry, or why it may not run now.
    func prepare(_ entry: QueueEntry) -> Result<(Int, PreparedAction), ActionFailure> {
        guard let target = entry.deletionTarget else {
            return .failure(ActionFailure(
                code: entry.lastErrorCode ?? "unfillable",
                message: entry.lastError ?? "the entry has no target that can run (\(entry.target.serialized.prefix(200)))", permanent: true))
        }
        guard let root = roots[entry.root] else {
            return .failure(ActionFailure(
                code: "unknown-root",
                message: "the root '\(entry.root)' is not in the configuration (roots: \(roots.names.joined(separator: ", "))); restore it or cancel the entry"))
        }
        if let made = entry.rootLocation, made != root {
            return .failure(ActionFailure(
                code: "root-changed",
                message: "the root '\(entry.root)' is now \(root), and the entry was made for \(made); put the root back, or cancel the entry"))
        }
        if let archive, root.overlaps(archive) {
            return .failure(ActionFailure(code: "root-overlaps-archive", message: "the root '\(entry.root)' (\(root)) overlaps the archive (\(archive)); nothing is deleted there", permanent: true))
        }
        if let stateFolder, root.overlaps(folder: stateFolder) {
            return .failure(ActionFailure(code: "root-overlaps-state", message: "the root '\(entry.root)' (\(root)) overlaps the state folder; nothing is deleted there", permanent: true))
        }
        if let problem = target.problem(under: root) {
            return .failure(ActionFailure(
                code: "unsafe-target",
                message: "\(problem); it is never run (rule '\(entry.rule)', action \(entry.actionIndex + 1) (\(entry.action) in root '\(entry.root)'), record \(entry.archiveKey))",
                permanent: true))
        }
        guard let executor = executors.firstIndex(where: { $0.handles(root) }) else {
            return .failure(ActionFailure(code: "no-executor", message: "nothing here acts on \(root) roots"))
        }
        return .success((executor, PreparedAction(id: entry.id, target: target, rootName: entry.root, root: root, archiveKey: entry.archiveKey)))
    }
}
