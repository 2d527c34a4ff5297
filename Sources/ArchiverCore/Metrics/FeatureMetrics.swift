import Metrics

/// The deletion queue's metrics: called by the queue where its events happen (named hooks; see ``MetricNames``).
public enum QueueMetrics {
    /// How many entries are in each state now (from the queue's counts; every state, zeros too).
    public static func entries(_ counts: [String: Int]) {
        for (state, count) in counts {
            Gauge(label: MetricNames.queueEntries, dimensions: [("state", state)]).record(count)
        }
    }

    /// One action carried out: its rule, what it was, how it ended, how long it took.
    public static func action(rule: String, action: String, outcome: String, seconds: Double) {
        Counter(label: MetricNames.actions, dimensions: [("rule", rule), ("action", action), ("outcome", outcome)]).increment()
        Metrics.Timer(label: MetricNames.actionSeconds, dimensions: [("rule", rule), ("action", action)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }
}

/// Coordination's metrics, by consumer (named hooks for the coordinator; see ``MetricNames``).
public enum CoordinationMetrics {
    /// A deletion began waiting for `consumer`.
    public static func waiting(consumer: String) {
        Counter(label: MetricNames.coordinationWaits, dimensions: [("consumer", consumer)]).increment()
    }

    /// `consumer` acknowledged after `seconds`.
    public static func acknowledged(consumer: String, afterSeconds seconds: Double) {
        Counter(label: MetricNames.coordinationAcks, dimensions: [("consumer", consumer)]).increment()
        Metrics.Timer(label: MetricNames.coordinationWaitSeconds, dimensions: [("consumer", consumer)], preferredDisplayUnit: .seconds)
            .recordNanoseconds(Int64(seconds * 1e9))
    }

    /// `consumer` did not answer in time.
    public static func timedOut(consumer: String) {
        Counter(label: MetricNames.coordinationTimeouts, dimensions: [("consumer", consumer)]).increment()
    }
}

/// Erasure's metrics (named hooks for erasure jobs; see ``MetricNames``).
public enum ErasureMetrics {
    /// An erasure job changed state: `started`, `completed` or `failed`.
    public static func job(_ outcome: String) {
        Counter(label: MetricNames.erasureJobs, dimensions: [("outcome", outcome)]).increment()
    }

    /// Archived objects (or versions) an erasure job deleted.
    public static func objectsDeleted(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: MetricNames.erasureObjectsDeleted).increment(by: Int64(count))
    }
}
