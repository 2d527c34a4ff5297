import ArchiverCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// One configured source followed for as long as the service runs: a pipeline that is restarted with backoff when it
/// fails (the other sources go on), and stopped gracefully (finish the batches in flight, save the checkpoint) when
/// the service group shuts down.
public final class TailService: Service, @unchecked Sendable {
    /// What the tail is doing.
    public enum State: String, Sendable, Codable {
        /// Opening its source.
        case starting
        /// Reading and archiving.
        case running
        /// Failed; waiting to be restarted.
        case restarting
        /// Asked to stop; finishing what is in flight.
        case stopping
        /// Stopped.
        case stopped
    }

    /// The source as configured (`jsonl:feed.jsonl`).
    public let name: String
    private let source: ServeSource
    private let makePipeline: @Sendable (any ChangeSource) throws -> ArchivePipeline
    private let backoff: RestartBackoff
    private let logger: Logger
    /// A run that lasted this long before failing counts as healthy: the backoff starts again from its base.
    private let healthyRunSeconds: Double

    private let lock = NSLock()
    private var state: State = .starting
    private var changeSource: (any ChangeSource)?
    private var pipeline: ArchivePipeline?
    private var finishedTotals = TailSummary()
    /// The last finished run's status (its checkpoints, lag and recent deletions), shown while no run is going.
    private var lastRun: PipelineStatus.Snapshot?
    private var restarts = 0
    private var lastError: String?
    private var lastErrorAt: Date?
    private var nextAttemptAt: Date?

    /// The `source` label of this tail's metrics: the source's id once it was opened, the configured name before.
    private var metricLabel: String

    init(source: ServeSource, backoff: RestartBackoff, healthyRunSeconds: Double = 60, logger: Logger,
         makePipeline: @escaping @Sendable (any ChangeSource) throws -> ArchivePipeline) {
        name = source.name
        self.source = source
        self.backoff = backoff
        self.healthyRunSeconds = healthyRunSeconds
        self.logger = logger
        self.makePipeline = makePipeline
        metricLabel = source.name
    }

    public func run() async throws {
        let stop = StopSignal()
        // Cancelled (the group failed, or the grace period ran out) or shut down: stop reading either way; the pipeline
        // then finishes its batch and saves its checkpoint.
        await withTaskCancellationOrGracefulShutdownHandler {
            await self.follow(stop)
        } onCancelOrGracefulShutdown: {
            self.lock.withLock { if self.state != .stopped { self.state = .stopping } }
            stop.stop()
        }
    }

    /// Runs the pipeline until `stop`, restarting it with backoff whenever it fails.
    private func follow(_ stop: StopSignal) async {
        var failures = 0
        while !stop.isStopped && !Task.isCancelled {
            let started = Date()
            var running: ArchivePipeline?
            do {
                let changeSource = try await source.open()
                let pipeline = try makePipeline(changeSource)
                running = pipeline
                lock.withLock {
                    self.changeSource = changeSource
                    self.pipeline = pipeline
                    if state != .stopping { state = .running }
                    nextAttemptAt = nil
                    metricLabel = changeSource.id
                }
                setUp(true)
                _ = try await pipeline.run(stop: stop)
                finish(running)
                if stop.isStopped { break }
                throw ServeError.badSetting("the source \(name) ended while it was being followed")
            } catch {
                finish(running)
                setUp(false)
                let message = "\(error)"
                if stop.isStopped {
                    lock.withLock {
                        lastError = message
                        lastErrorAt = Date()
                    }
                    logger.error("the tail stopped with an error", metadata: ["source": "\(name)", "error": "\(message)"])
                    break
                }
                failures = Date().timeIntervalSince(started) >= healthyRunSeconds ? 1 : failures + 1
                let delay = backoff.delay(afterFailures: failures)
                Counter(label: MetricNames.tailRestarts, dimensions: [("source", lock.withLock { metricLabel })]).increment()
                lock.withLock {
                    restarts += 1
                    lastError = message
                    lastErrorAt = Date()
                    nextAttemptAt = Date().addingTimeInterval(delay)
                    state = .restarting
                }
                logger.error(
                    "the tail failed; restarting it after a wait (the other sources go on)",
                    metadata: ["source": "\(name)", "error": "\(message)", "restart.attempt": "\(failures)",
                               "restart.delay": "\(String(format: "%.1f", delay))s"])
                await stop.sleep(seconds: delay)
            }
        }
        setUp(false)
        lock.withLock {
            state = .stopped
            nextAttemptAt = nil
        }
    }

    private func setUp(_ running: Bool) {
        Gauge(label: MetricNames.tailUp, dimensions: [("source", lock.withLock { metricLabel })]).record(running ? 1 : 0)
    }

    /// Adds a finished run's counts to the totals.
    private func finish(_ pipeline: ArchivePipeline?) {
        guard let pipeline else { return }
        let status = pipeline.status.snapshot()
        lock.withLock {
            finishedTotals += status.totals
            lastRun = status
            if self.pipeline === pipeline { self.pipeline = nil }
        }
    }

    /// Where the tail stands now.
    public func snapshot(now: Date = Date()) async -> TailSnapshot {
        let (state, changeSource, pipeline, finished, lastRun) = lock.withLock {
            (self.state, self.changeSource, self.pipeline, finishedTotals, self.lastRun)
        }
        let (restarts, lastError, lastErrorAt, nextAttemptAt) = lock.withLock { (self.restarts, self.lastError, self.lastErrorAt, self.nextAttemptAt) }
        var snapshot = TailSnapshot(name: name, state: state)
        snapshot.sourceID = changeSource?.id
        snapshot.restarts = restarts
        snapshot.lastError = lastError
        snapshot.lastErrorAt = lastErrorAt
        snapshot.nextAttemptAt = nextAttemptAt
        snapshot.totals = finished
        if let status = pipeline?.status.snapshot(now: now) ?? lastRun {
            if pipeline != nil { snapshot.totals += status.totals }
            snapshot.checkpoints = status.checkpoints
            snapshot.lastCommitAt = status.lastCommitAt
            snapshot.lagSeconds = status.lagSeconds
            snapshot.recordsPerSecond = pipeline == nil ? 0 : status.recordsPerSecond
            snapshot.recent = status.recent
        }
        if let changeSource {
            snapshot.position = snapshot.checkpoints.isEmpty ? "from the start" : changeSource.describe(checkpoints: snapshot.checkpoints)
            if let reporting = changeSource as? any SourceBacklogReporting {
                snapshot.backlog = await reporting.backlog(after: snapshot.checkpoints)
            }
        }
        return snapshot
    }

    /// Whether the tail is reading (not waiting to be restarted, not stopped).
    public var isRunning: Bool { lock.withLock { state == .running } }
}

/// A tail at one moment, for the API, the page and the metrics.
public struct TailSnapshot: Sendable {
    /// The source as configured.
    public var name: String
    /// The source's id (its checkpoints are kept under it), once it was opened.
    public var sourceID: String?
    public var state: TailService.State
    /// Where reading stands, in words.
    public var position: String?
    public var checkpoints: [String: String] = [:]
    public var lastCommitAt: Date?
    public var lagSeconds: Double?
    public var recordsPerSecond: Double = 0
    public var backlog: SourceBacklog?
    /// Counts since the service started (all runs).
    public var totals = TailSummary()
    public var restarts = 0
    public var lastError: String?
    public var lastErrorAt: Date?
    public var nextAttemptAt: Date?
    /// The last deletions archived, newest first.
    public var recent: [PipelineStatus.RecentDeletion] = []

    init(name: String, state: TailService.State) {
        self.name = name
        self.state = state
    }

    /// Seconds since the checkpoint was last saved.
    public func checkpointAge(now: Date = Date()) -> Double? { lastCommitAt.map { max(0, now.timeIntervalSince($0)) } }
}
