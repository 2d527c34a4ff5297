import Foundation
import Logging

/// One `archiver cleanup`: each root (stale multipart uploads, then orphaned objects, a page at a time), then
/// archiver's own leftovers; planned, then carried out (or, in a dry run, only reported); counted into a summary.
///
/// Each page is planned and carried out before the next is read, so memory stays flat however large the bucket, and
/// an owner is looked up just before its objects are deleted. A root that cannot be listed is an error; the run goes
/// on with the next.
public struct CleanupRun: Sendable {
    public var targets: [CleanupTarget]
    public var housekeeping: Housekeeping
    /// Plan and report; change nothing.
    public var dryRun: Bool
    /// Ages are measured from this clock's now, read once at the start.
    public var clock: any WallClock
    public var logger: Logger

    public init(targets: [CleanupTarget], housekeeping: Housekeeping = Housekeeping(), dryRun: Bool, clock: any WallClock = SystemClock(),
                logger: Logger = Logger(label: "archiver.cleanup")) {
        self.targets = targets
        self.housekeeping = housekeeping
        self.dryRun = dryRun
        self.clock = clock
        self.logger = logger
    }

    /// Runs the cleanup. `onPlan` sees each plan before it is carried out (a dry run prints its actions there).
    public func run(onPlan: @Sendable (CleanupPlan) async -> Void = { _ in }) async -> CleanupSummary {
        let now = clock.now()
        let started = ContinuousClock.now
        var summary = CleanupSummary(dryRun: dryRun, startedAt: now)
        let planner = CleanupPlanner(now: now)

        func carryOut(_ plan: CleanupPlan, root: (any CleanupRoot)?) async {
            await onPlan(plan)
            var counts = plan.counts
            var problems = plan.problems
            if dryRun {
                for action in plan.actions { counts.count(done: action) }
                summary.actions += plan.actions.map { (plan.place, $0) }
            } else {
                let executor = CleanupExecutor(root: root, queue: housekeeping.queue, logger: logger)
                let (done, failures) = await executor.execute(plan)
                counts += done
                problems += failures
            }
            summary.add(counts, problems: problems, in: plan.place)
        }

        func failed(_ place: String, _ subject: String, _ error: any Error) {
            var counts = CleanupCounts()
            counts.errors = 1
            summary.add(counts, problems: [CleanupProblem(root: place, subject: subject, error: "\(error)")], in: place)
            logger.error("cleanup could not go on here", metadata: ["cleanup.root": "\(place)", "cleanup.subject": "\(subject)", "error": "\(error)"])
        }

        if !dryRun {
            do {
                try await housekeeping.prepare(now: now)
            } catch {
                failed(housekeeping.stateFolder ?? "state", "dead letters", error)
            }
        }

        for target in targets {
            let place = target.root.description
            summary.add(CleanupCounts(), problems: [], in: place)
            if let rule = target.uploads {
                do {
                    for try await page in target.root.uploads() {
                        await carryOut(await planner.plan(uploads: page, in: target.root, rule: rule), root: target.root)
                    }
                } catch {
                    failed(place, "multipart uploads", error)
                }
            }
            if let rule = target.orphans {
                do {
                    for try await page in target.root.objects() {
                        await carryOut(await planner.plan(objects: page, under: place, rule: rule), root: target.root)
                    }
                } catch {
                    failed(place, "objects", error)
                }
            }
        }

        for plan in await housekeeping.plans(now: now) {
            await carryOut(plan, root: nil)
        }
        if !dryRun { housekeeping.tidy() }

        let elapsed = ContinuousClock.now - started
        // To the millisecond, the same in the summary and in the metrics file.
        summary.durationSeconds = ((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000).rounded() / 1000
        return summary
    }
}
