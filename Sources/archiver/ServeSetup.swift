import ArchiverCore
import ArchiverServe
import Foundation
import Logging

/// The parts and settings of `archiver serve`, from flags, environment variables and the configuration file (in that
/// order of precedence), wired to the adapters.
struct ServeSetup {
    let configuration: ArchiverConfiguration
    let environment: [String: String]
    let sources: [SourceSpec]
    let archive: ArchiveLocation?
    let state: String?
    let listen: ListenAddress?
    let tokenFile: String?
    let logger: Logger

    init(configuration: ArchiverConfiguration, environment: [String: String], sources: [SourceSpec], archive: ArchiveLocation?, state: String?,
         listen: ListenAddress?, tokenFile: String?, logger: Logger) throws {
        self.configuration = configuration
        self.environment = environment
        self.sources = sources
        self.archive = archive
        self.state = state
        self.listen = listen
        self.tokenFile = tokenFile
        self.logger = logger
    }

    var stateFolder: String {
        Setting.resolve(flag: state, variable: "ARCHIVER_STATE", environment: environment, file: configuration.state,
                        fallback: ArchiverConfiguration.defaultState).value
    }

    var listenAddress: ListenAddress {
        get throws {
            try Setting.resolve(
                flag: listen, variable: "ARCHIVER_SERVE_LISTEN", environment: environment,
                parse: { text in
                    guard let address = ListenAddress(text) else { throw ServeError.badSetting("ARCHIVER_SERVE_LISTEN '\(text)' is not host:port") }
                    return address
                }, file: configuration.serve.listen, fallback: ServeConfiguration.defaultListen
            ).value
        }
    }

    func settings() throws -> ServeSettings {
        let serve = configuration.serve
        let address = try listenAddress
        let token = try ServeToken.resolve(
            flagFile: tokenFile, environment: environment, configuredFile: serve.tokenFile, listen: address, stateFolder: stateFolder)
        return ServeSettings(
            listen: address, token: token,
            gracePeriod: (serve.gracePeriod ?? ServeConfiguration.defaultGracePeriod).seconds,
            restartBase: (serve.restartBase ?? ServeConfiguration.defaultRestartBase).seconds,
            restartMaximum: (serve.restartMax ?? ServeConfiguration.defaultRestartMax).seconds,
            sessionLifetime: (serve.sessionLifetime ?? ServeConfiguration.defaultSessionLifetime).seconds,
            secureCookie: serve.secureCookie ?? false)
    }

    func parts(options: TailOptions, layout: ArchiveLayout?) async throws -> ServeParts {
        var options = options
        let wiring = Wiring(environment: environment, logger: logger)
        let location: ArchiveLocation
        if let archive {
            location = archive
        } else if let text = environment["ARCHIVER_ARCHIVE"], !text.isEmpty {
            location = try ArchiveLocation(text)
        } else if let text = configuration.archive {
            location = try ArchiveLocation(text)
        } else {
            throw ServeError.badSetting("archiver serve needs an archive: --archive, ARCHIVER_ARCHIVE, or archive: in the configuration file")
        }
        let specs = sources.isEmpty ? try configuration.sources.map { try SourceSpec($0) } : sources
        if specs.isEmpty {
            logger.warning("no sources to tail: add them under sources: in the configuration file (or --source); serving the API and the page only")
        }
        let maxRecordBytes = options.maxRecordBytes
        let serveSources = specs.map { spec in
            ServeSource(name: spec.description) { try await wiring.source(spec, maxRecordBytes: maxRecordBytes) }
        }
        let targets = try configuration.serve.restoreTargets.map { name, text -> ServeRestoreTarget in
            let spec = try RestoreTargetSpec(text)
            if spec.isStandardOutput {
                throw ServeError.badSetting("serve.restore-targets.\(name): standard output (-) is no target for a server; name a sqlite: or dynamodb: table")
            }
            return ServeRestoreTarget(name: name, spec: text) { try wiring.restoreTarget(spec) }
        }
        let store = try wiring.store(location, access: .create)
        options.layout = try await LayoutManifest.prepare(store, requested: layout)
        // Deletion rules: each tail queues what an archived deletion owned; the queue's workers run beside the tails
        // (queue.run-in-tail), as a following `archiver tail` runs them.
        try QueueSetup.checkRoots(configuration, archive: location, stateFolder: stateFolder)
        let actions = configuration.rules.rules.isEmpty
            ? nil : DeletionActions(rules: try configuration.ruleSet(stateFolder: stateFolder), queue: configuration.queue)
        var workers: ServeJob?
        if actions != nil && configuration.queue.runInTail {
            let (configuration, stateFolder, logger) = (configuration, stateFolder, logger)
            workers = ServeJob(name: "the deletion queue's workers") { stop in
                let worker = try QueueSetup.worker(
                    configuration, settings: configuration.queue, queue: try QueueStore.open(stateFolder: stateFolder), archive: (location, store),
                    stateFolder: stateFolder, maxAttempts: nil, logger: logger)
                _ = try await worker.run(stop: stop, once: false, progress: { _ in })
            }
        }
        // `POST /api/v1/queue/run`: a batch on request, by a worker made at the first request (the state folder is
        // made by then) and kept.
        var runner: ServeQueueRunner?
        if !configuration.roots.roots.isEmpty {
            let (configuration, stateFolder, logger) = (configuration, stateFolder, logger)
            let made = MadeOnce<QueueWorker>()
            runner = ServeQueueRunner(defaultBatchSize: configuration.queue.batchSize) { batchSize in
                let worker = try made.value {
                    try QueueSetup.worker(
                        configuration, settings: configuration.queue, queue: try QueueStore.open(stateFolder: stateFolder),
                        archive: (location, store), stateFolder: stateFolder, maxAttempts: nil, logger: logger)
                }
                return try await worker.runBatch(batchSize: batchSize)
            }
        }
        // Erasure: asked for over HTTP; due jobs carried out beside the queue's workers, as `queue run` carries them out.
        var erasure: ServeErasure?
        var erasureWorker: ServeJob?
        if configuration.indexesSubjects || !configuration.erasure.actions.isEmpty {
            let (configuration, stateFolder, logger) = (configuration, stateFolder, logger)
            let key = MadeOnce<SubjectKey>()
            let eraser = wiring.eraser(location, store: store, erasure: configuration.erasure)
            erasure = ServeErasure { subject, erasures, survey in
                let hmac = try key.value { try SubjectKey(stateFolder: stateFolder, file: configuration.erasure.keyFile) }.hmac(subject)
                let actions = ErasurePlan.actions(for: subject, erasure: configuration.erasure, roots: configuration.roots)
                let records = try erasures.indexed(subjectHMAC: hmac).map {
                    ErasurePlan.Record(archiveKey: $0.archiveKey, objectKey: $0.objectKey, archivedAt: $0.archivedAt)
                }
                var plan = ErasurePlan(subjectHMAC: hmac, records: records, actions: actions)
                // A dry run lists what the objects are (as `erase --dry-run` does): versions, class, age, charge.
                if survey && !records.isEmpty {
                    plan.survey = try await ErasureSurvey.survey(plan, store: store, eraser: eraser, at: Date())
                }
                return ServeErasure.Prepared(
                    subjectHMAC: hmac, actions: ErasurePlan.actionsJSON(actions, roots: configuration.roots),
                    manifest: plan.json(rate: configuration.erasure.rate, roots: configuration.roots))
            }
            if configuration.queue.runInTail {
                erasureWorker = ServeJob(name: "the erasure jobs") { stop in
                    let erasures = ErasureStore(checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false))
                    let runner = ErasureRunner(
                        erasures: erasures, store: store,
                        eraser: wiring.eraser(location, store: store, erasure: configuration.erasure),
                        executors: try wiring.executors(roots: configuration.roots, archive: store, concurrency: configuration.queue.concurrency),
                        roots: configuration.roots, receipts: ReceiptBook(stateFolder: stateFolder), logger: logger,
                        events: try EraseSetup.events(configuration, stateFolder: stateFolder, logger: logger))
                    while !stop.isStopped {
                        // A read first: claiming is a write, and most turns find nothing to do.
                        guard try erasures.hasUnfinished() else {
                            await stop.sleep(seconds: configuration.queue.poll.seconds)
                            continue
                        }
                        let done = try await runner.run(nil)
                        if !done.jobs.isEmpty {
                            logger.info("erasure jobs carried out", metadata: [
                                "erasure.jobs": "\(done.jobs.joined(separator: ","))", "erasure.completed": "\(done.completed)",
                                "erasure.completed_with_errors": "\(done.withErrors)", "erasure.cancelled": "\(done.cancelled)", "erasure.failed": "\(done.failed)",
                            ])
                        }
                        await stop.sleep(seconds: configuration.queue.poll.seconds)
                    }
                }
            }
        }
        return ServeParts(
            stateFolder: stateFolder, archive: store, sources: serveSources,
            restoreTargets: targets, tailOptions: options, actions: actions, queueWorkers: workers, queueRunner: runner,
            eventSource: configuration.events.source, erasure: erasure, erasureWorker: erasureWorker)
    }
}

/// A value made at its first use and kept (made again after a failure).
final class MadeOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var made: Value?

    func value(_ make: () throws -> Value) throws -> Value {
        try lock.withLock {
            if let made { return made }
            let value = try make()
            made = value
            return value
        }
    }
}
