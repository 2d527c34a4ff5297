import Foundation

/// Where a running pipeline stands, for people and machines watching it (`archiver serve`'s page, API and metrics):
/// its checkpoints, what it has done, how fast, how far behind, and the last deletions it archived.
///
/// Updated once per committed batch (one short lock), read at any time.
public final class PipelineStatus: @unchecked Sendable {
    /// One deletion archived.
    public struct RecentDeletion: Sendable, Equatable, Codable {
        /// The archive key (what `restore` takes).
        public var key: String
        public var kind: DeletionKind
        /// The deletion's event time, `2024-01-15T10:30:00Z`.
        public var deletedAt: String

        enum CodingKeys: String, CodingKey {
            case key, kind
            case deletedAt = "deleted_at"
        }

        public init(key: String, kind: DeletionKind, deletedAt: String) {
            self.key = key
            self.kind = kind
            self.deletedAt = deletedAt
        }
    }

    /// A copy of the status at one moment.
    public struct Snapshot: Sendable {
        /// Checkpoints by partition, as saved (the source describes them in words).
        public var checkpoints: [String: String] = [:]
        /// What this pipeline did since it started.
        public var totals = TailSummary()
        public var startedAt: Date?
        /// When a checkpoint was last saved (the one read at start counts as saved then).
        public var lastCommitAt: Date?
        /// For the last deletion archived: seconds between its deletion and its archiving.
        public var lagSeconds: Double?
        /// Records read per second over the last minute.
        public var recordsPerSecond: Double = 0
        /// The last deletions archived, newest first.
        public var recent: [RecentDeletion] = []
    }

    /// How many recent deletions are kept.
    public static let recentLimit = 20
    /// The window the rate is measured over, in seconds.
    static let rateWindow: Double = 60

    private let lock = NSLock()
    private var state = Snapshot()
    /// (commit time, records read in that batch), oldest first, within the rate window.
    private var samples: [(Date, Int)] = []

    public init() {}

    /// The pipeline started from these checkpoints.
    func started(checkpoints: [String: String], at date: Date) {
        lock.withLock {
            state.checkpoints = checkpoints
            state.startedAt = date
            state.lastCommitAt = checkpoints.isEmpty ? nil : date
        }
    }

    /// A batch was committed: its checkpoint, its counts, the deletions it archived (oldest first).
    func committed(partition: String, checkpoint: String, summary: TailSummary, archived: [RecentDeletion], lagSeconds: Double?, at date: Date) {
        lock.withLock {
            state.checkpoints[partition] = checkpoint
            state.totals += summary
            state.totals.seconds = state.startedAt.map { date.timeIntervalSince($0) } ?? 0
            state.lastCommitAt = date
            if let lagSeconds { state.lagSeconds = lagSeconds }
            if !archived.isEmpty {
                state.recent = Array((archived.suffix(Self.recentLimit).reversed() + state.recent).prefix(Self.recentLimit))
            }
            samples.append((date, summary.read))
            samples.removeAll { date.timeIntervalSince($0.0) > Self.rateWindow }
        }
    }

    /// The status now (the rate is measured up to `now`).
    public func snapshot(now: Date = Date()) -> Snapshot {
        lock.withLock {
            var copy = state
            let recent = samples.filter { now.timeIntervalSince($0.0) <= Self.rateWindow }
            let read = recent.reduce(0) { $0 + $1.1 }
            let since = max(state.startedAt ?? now, now.addingTimeInterval(-Self.rateWindow))
            let span = now.timeIntervalSince(since)
            copy.recordsPerSecond = span > 0 ? Double(read) / span : 0
            return copy
        }
    }
}
