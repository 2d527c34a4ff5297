import ArchiverCore
import ArchiverServe
import ArgumentParser
import Logging

/// `--metrics-listen <host:port>`: serve Prometheus metrics at `http://<host:port>/metrics` while the command runs.
struct MetricsListenOption: ParsableArguments {
    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp(
        "Serve Prometheus metrics at http://<host:port>/metrics while this runs (open: metrics hold counts, never records).",
        valueName: "host:port"))
    var listen: Parsed<ListenAddress>?

    func validate() throws {
        _ = try listen?.value("--metrics-listen")
    }

    /// Sends the process's metrics to the Prometheus registry when they are to be served. Call it before anything that
    /// reports metrics is made (a handle made before reports nowhere).
    func bootstrap() {
        if listen != nil { PrometheusExport.bootstrap() }
    }

    /// Runs `body`, serving the metrics meanwhile when asked to.
    func serving<T: Sendable>(logger: Logger, refresh: @escaping @Sendable () async -> Void = {}, _ body: () async throws -> T) async throws -> T {
        guard let address = try listen?.value("--metrics-listen") else { return try await body() }
        return try await MetricsEndpoint.serving(
            listen: address, logger: logger, refresh: refresh,
            onListening: { Terminal.printError("serving metrics on http://\($0)/metrics") }, body)
    }
}
