import ArchiverCore
import Foundation
import Metrics

/// Coordination and erasure as gauges read from the state database at each scrape (a few grouped counts, whatever
/// the tables' length): so they hold what every process did (`archiver ack`, `erase`, the acks queue), not only this one.
enum FeatureGauges {
    /// Sets the gauges; a state database that cannot be read now leaves them as they were.
    static func refresh(_ context: ServeContext) {
        let coordinations = CoordinationsAPI.store(context)
        if let states = try? coordinations.counts() {
            for (state, count) in states { Gauge(label: MetricNames.coordinations, dimensions: [("state", state.rawValue)]).record(count) }
        }
        if let consumers = try? coordinations.consumerCounts() {
            for (status, count) in consumers.byStatus {
                Gauge(label: MetricNames.coordinationConsumers, dimensions: [("status", status.rawValue)]).record(count)
            }
            Gauge(label: MetricNames.coordinationConsumers, dimensions: [("status", "late")]).record(consumers.late)
        }
        for target in (try? coordinations.outboxTargets()) ?? [] {
            Gauge(label: MetricNames.outboxBacklog, dimensions: [("target", target.target)]).record(target.backlog)
            Gauge(label: MetricNames.outboxDelivered, dimensions: [("target", target.target)]).record(target.delivered)
            Gauge(label: MetricNames.outboxParked, dimensions: [("target", target.target)]).record(target.parked)
            Gauge(label: MetricNames.outboxFailedAttempts, dimensions: [("target", target.target)]).record(target.failedAttempts)
        }
        let erasures = ErasuresAPI.store(context)
        if let states = try? erasures.stateCounts() {
            for (state, count) in states { Gauge(label: MetricNames.erasureJobStates, dimensions: [("state", state.rawValue)]).record(count) }
        }
        if let erased = try? erasures.objectsErased() { Gauge(label: MetricNames.erasureObjectsErased).record(erased) }
    }
}
