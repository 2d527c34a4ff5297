import ArchiverCore
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `archiver serve`: every configured source's tail and the HTTP server (API, page, metrics) in one process, under a
/// ServiceGroup. SIGTERM or SIGINT stops it gracefully: `/readyz` turns 503, the HTTP server stops taking connections
/// and finishes the requests in flight, then each tail stops reading, finishes its batches and saves its checkpoint;
/// what is still running after the grace period is cancelled.
public struct ArchiverServer: Sendable {
    public let parts: ServeParts
    public let settings: ServeSettings
    public let logger: Logger

    public init(parts: ServeParts, settings: ServeSettings, logger: Logger) {
        self.parts = parts
        self.settings = settings
        self.logger = logger
    }

    /// Runs until stopped; returns each tail's state at the end (its counts since the start).
    /// - Parameter onListening: called with the address the server listens on (the real port when asked for port 0).
    /// - Throws: when the state folder is in use or damaged, or the address cannot be listened on.
    public func run(onListening: @escaping @Sendable (ListenAddress) -> Void = { _ in }) async throws -> [TailSnapshot] {
        PrometheusExport.bootstrap()
        // Before the state database is opened: a second writer is told who holds the folder.
        let lock = try StateFolderLock(stateFolder: parts.stateFolder)
        defer { withExtendedLifetime(lock) {} }
        let context = try makeContext()
        let (router, _) = try ServeRouter.build(context: context)
        let listen = settings.listen
        let logger = self.logger
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(listen.host, port: listen.port), serverName: nil),
            onServerRunning: { channel in
                let address = ListenAddress(host: listen.host, port: channel.localAddress?.port ?? listen.port)
                logger.notice("archiver serve is listening", metadata: ["http.address": "\(address)", "serve.token": "\(context.settings.token)"])
                onListening(address)
            },
            logger: logger)
        var services = context.tails.map {
            ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)
        }
        // The queue's workers (with the coordinator: timeouts, releases, outbox delivery) and the due erasure jobs.
        for job in [parts.queueWorkers, parts.erasureWorker].compactMap({ $0 }) {
            let backoff = RestartBackoff(base: settings.restartBase, maximum: settings.restartMaximum)
            services.append(.init(service: JobService(job: job, backoff: backoff, logger: logger), successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        services.append(.init(service: app))
        services.append(.init(service: StopWatcher(context: context), successTerminationBehavior: .ignore))
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int64(settings.gracePeriod * 1000))
        do {
            try await ServiceGroup(configuration: configuration).run()
        } catch let error as IOError {
            // The tails were stopped (their checkpoints saved) when the server could not start.
            throw ServeError.badSetting(
                "cannot listen on \(listen): \(String(cString: strerror(error.errnoCode))); choose another address with --listen or serve.listen")
        }
        return await context.tailSnapshots()
    }

    /// The context the routes work with, on a state folder this process has locked.
    func makeContext() throws -> ServeContext {
        let checkpoints = try CheckpointStore(stateFolder: parts.stateFolder)
        let deadLetters = try DeadLetterFolder(stateFolder: parts.stateFolder)
        var tailOptions = parts.tailOptions
        tailOptions.follow = true
        let options = tailOptions
        let (store, logger, actions) = (parts.archive, self.logger, parts.actions)
        let backoff = RestartBackoff(base: settings.restartBase, maximum: settings.restartMaximum)
        let tails = parts.sources.map { source in
            TailService(source: source, backoff: backoff, logger: logger) { changeSource in
                ArchivePipeline(
                    source: changeSource, store: store, checkpoints: checkpoints, deadLetters: deadLetters, options: options, logger: logger,
                    actions: actions)
            }
        }
        return ServeContext(parts: parts, settings: settings, checkpoints: checkpoints, deadLetters: deadLetters, tails: tails, logger: logger)
    }
}

/// Marks the service as stopping as soon as a graceful shutdown begins (listed last, it is told first), so `/readyz`
/// turns 503 while the rest finishes.
private struct StopWatcher: Service {
    let context: ServeContext

    func run() async throws {
        try? await gracefulShutdown()
        context.markStopping()
    }
}
