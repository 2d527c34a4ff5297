import ArchiverCore
import Foundation
import Metrics
import Prometheus

/// The process's metrics in Prometheus text format: swift-metrics bootstrapped once with swift-prometheus, so
/// whatever the core reports (``MetricNames``) lands in one registry that `GET /metrics` writes out.
public enum PrometheusExport {
    /// The registry every metric of the process is kept in.
    public static let registry = PrometheusCollectorRegistry()

    private static let bootstrapped: Bool = {
        var factory = PrometheusMetricsFactory(registry: registry)
        // Commit and request times are milliseconds to seconds; actions and coordination waits can take minutes.
        let longer: [Duration] = [.milliseconds(10), .milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(600), .seconds(3600)]
        factory.durationHistogramBuckets[MetricNames.actionSeconds] = longer
        factory.durationHistogramBuckets[MetricNames.coordinationWaitSeconds] = longer
        MetricsSystem.bootstrap(factory)
        return true
    }()

    /// Sends the process's metrics to the registry (once; later calls do nothing).
    public static func bootstrap() {
        _ = bootstrapped
    }

    /// The exposition text.
    public static func text() -> String {
        registry.emitToString()
    }

    /// The content type of the exposition text.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}

/// Gauges that are read rather than counted: set from the tails' state just before the metrics are written out.
enum ScrapeGauges {
    /// A source's checkpoint age and backlog.
    static func update(source: String, checkpointAge: Double?, backlog: SourceBacklog?) {
        let label = [("source", source)]
        if let checkpointAge { Gauge(label: MetricNames.checkpointAgeSeconds, dimensions: label).record(checkpointAge) }
        if let bytes = backlog?.bytes { Gauge(label: MetricNames.sourceBacklogBytes, dimensions: label).record(bytes) }
        if let records = backlog?.records { Gauge(label: MetricNames.sourceBacklogRecords, dimensions: label).record(records) }
    }

    /// Entries in the dead-letter folder.
    static func deadLetters(_ count: Int) {
        Gauge(label: MetricNames.deadLetters).record(count)
    }
}
