import Foundation
import Metrics

/// What one source's pipeline reports, a batch at a time: the handles are made once per pipeline, and a batch costs
/// a few additions (no lock per record on the hot path).
struct PipelineMetrics: Sendable {
    let source: String
    private let read: Counter
    private let readBytes: Counter
    private let archivedManual: Counter
    private let archivedTTL: Counter
    private let passedOverInserts: Counter
    private let passedOverModifies: Counter
    private let writes: Counter
    private let writtenBytes: Counter
    private let retriesUnavailable: Counter
    private let retriesRejected: Counter
    private let waited: FloatingPointCounter
    private let commitTime: Metrics.Timer
    private let lag: Gauge

    init(source: String) {
        self.source = source
        let label = [("source", source)]
        read = Counter(label: MetricNames.recordsRead, dimensions: label)
        readBytes = Counter(label: MetricNames.recordBytesRead, dimensions: label)
        archivedManual = Counter(label: MetricNames.recordsArchived, dimensions: label + [("kind", DeletionKind.manual.rawValue)])
        archivedTTL = Counter(label: MetricNames.recordsArchived, dimensions: label + [("kind", DeletionKind.ttl.rawValue)])
        passedOverInserts = Counter(label: MetricNames.recordsPassedOver, dimensions: label + [("event", EventName.insert.rawValue)])
        passedOverModifies = Counter(label: MetricNames.recordsPassedOver, dimensions: label + [("event", EventName.modify.rawValue)])
        writes = Counter(label: MetricNames.archiveWrites, dimensions: label)
        writtenBytes = Counter(label: MetricNames.archiveBytesWritten, dimensions: label)
        retriesUnavailable = Counter(label: MetricNames.storeRetries, dimensions: label + [("reason", "unavailable")])
        retriesRejected = Counter(label: MetricNames.storeRetries, dimensions: label + [("reason", "rejected")])
        waited = FloatingPointCounter(label: MetricNames.storeWaitSeconds, dimensions: label)
        commitTime = Metrics.Timer(label: MetricNames.batchCommitSeconds, dimensions: label, preferredDisplayUnit: .seconds)
        lag = Gauge(label: MetricNames.sourceLagSeconds, dimensions: label)
    }

    /// One committed batch: its counts, its dead letters' codes, how long the commit took and the lag it leaves.
    func committed(_ summary: TailSummary, modifies: Int, deadLetterCodes: [String], seconds: Double, lagSeconds: Double?) {
        read.increment(by: Int64(summary.read))
        readBytes.increment(by: summary.bytes)
        if summary.archivedManual > 0 { archivedManual.increment(by: Int64(summary.archivedManual)) }
        if summary.archivedTTL > 0 { archivedTTL.increment(by: Int64(summary.archivedTTL)) }
        if summary.passedOver - modifies > 0 { passedOverInserts.increment(by: Int64(summary.passedOver - modifies)) }
        if modifies > 0 { passedOverModifies.increment(by: Int64(modifies)) }
        if summary.archived > 0 {
            writes.increment(by: Int64(summary.archived))
            writtenBytes.increment(by: summary.archivedBytes)
        }
        if !deadLetterCodes.isEmpty {
            var byCode: [String: Int] = [:]
            for code in deadLetterCodes { byCode[code, default: 0] += 1 }
            for (code, count) in byCode {
                Counter(label: MetricNames.recordsDeadLettered, dimensions: [("source", source), ("code", code)]).increment(by: Int64(count))
            }
        }
        commitTime.recordNanoseconds(Int64(seconds * 1e9))
        if let lagSeconds { lag.record(lagSeconds) }
    }

    /// The store could not take objects now and they are tried again.
    func retried(unavailable: Int, rejected: Int) {
        if unavailable > 0 { retriesUnavailable.increment(by: Int64(unavailable)) }
        if rejected > 0 { retriesRejected.increment(by: Int64(rejected)) }
    }

    /// Time spent waiting for an unavailable store.
    func waited(seconds: Double) {
        waited.increment(by: seconds)
    }

    /// Records of erased subjects that were not archived (erasure's hook).
    func suppressed(_ count: Int, kind: DeletionKind) {
        guard count > 0 else { return }
        Counter(label: MetricNames.recordsSuppressed, dimensions: [("source", source), ("kind", kind.rawValue)]).increment(by: Int64(count))
    }
}
