import ArchiverCore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// `GET /metrics` alone, for a single command (`tail --metrics-listen`, `queue run --metrics-listen`): served while
/// the command runs, open (no token: metrics hold counts, never records), on the address given.
public enum MetricsEndpoint {
    /// Serves the metrics on `listen` while `body` runs.
    /// - Parameters:
    ///   - refresh: sets the gauges that are read rather than counted, before each scrape.
    ///   - onListening: called with the address listened on.
    public static func serving<T: Sendable>(
        listen: ListenAddress, logger: Logger, refresh: @escaping @Sendable () async -> Void = {},
        onListening: @escaping @Sendable (ListenAddress) -> Void = { _ in }, _ body: () async throws -> T
    ) async throws -> T {
        PrometheusExport.bootstrap()
        let router = Router()
        router.get("/metrics") { _, _ in
            await refresh()
            return Response.text(PrometheusExport.text(), contentType: PrometheusExport.contentType)
        }
        let app = Application(
            router: router, configuration: ApplicationConfiguration(address: .hostname(listen.host, port: listen.port), serverName: nil),
            onServerRunning: { channel in
                let address = ListenAddress(host: listen.host, port: channel.localAddress?.port ?? listen.port)
                logger.info("serving metrics", metadata: ["http.address": "\(address)"])
                onListening(address)
            }, logger: logger)
        let server = Task { try await app.run() }
        defer { server.cancel() }
        do {
            let result = try await body()
            server.cancel()
            _ = await server.result
            return result
        } catch {
            server.cancel()
            _ = await server.result
            throw error
        }
    }

    /// Sets the queue's entries-by-state gauge from its trigger-kept counts (a few rows, whatever the queue's length).
    /// A queue that cannot be read now leaves the gauge as it was.
    public static func refreshQueueGauges(_ queue: QueueStore) {
        guard let stats = try? queue.stats() else { return }
        QueueMetrics.entries(stats.stateCounts)
    }

    /// Sets a pipeline's read gauges (checkpoint age, backlog) from its status and its source.
    public static func refreshGauges(pipeline: ArchivePipeline, source: any ChangeSource) async {
        let status = pipeline.status.snapshot()
        let backlog = await (source as? any SourceBacklogReporting)?.backlog(after: status.checkpoints)
        ScrapeGauges.update(source: source.id, checkpointAge: status.lastCommitAt.map { Date().timeIntervalSince($0) }, backlog: backlog)
    }
}
