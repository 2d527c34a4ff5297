import ArchiverCore
import JSONToolkit

/// What `archiver serve` works on, made by the executable from the configuration: the state folder, the archive,
/// the sources to tail and the targets restores may go to. The service knows only the core's protocols.
public struct ServeParts: Sendable {
    /// The state folder (checkpoints, dead letters, and everything the features keep there).
    public var stateFolder: String
    /// The archive, opened for writing.
    public var archive: any ArchiveStore
    /// The sources to tail, in the configuration's order.
    public var sources: [ServeSource]
    /// The targets restores may go to, by name, in the configuration's order.
    public var restoreTargets: [ServeRestoreTarget]
    /// How each tail runs (compression, workers, record limit, the archive's layout); `follow` is always on.
    public var tailOptions: TailOptions
    /// The deletion rules each tail applies to what it archives (nil: none configured).
    public var actions: DeletionActions?
    /// The deletion queue's workers, run beside the tails until the service stops (nil: not run here).
    public var queueWorkers: ServeJob?
    /// Runs a batch of the deletion queue on request (`POST /api/v1/queue/run`, the page's "Run a batch"); nil when
    /// the configuration names no roots (nothing here could carry an action out).
    public var queueRunner: ServeQueueRunner?
    /// The CloudEvents `source` of the events an ack over HTTP writes (`events.source`).
    public var eventSource: String
    /// Erasure of a subject over HTTP (`POST /api/v1/erasures`); nil when no rule names a subject and there are no
    /// erasure actions.
    public var erasure: ServeErasure?
    /// Carries out due erasure jobs beside the queue's workers, as `queue run` does (nil: not run here).
    public var erasureWorker: ServeJob?

    public init(
        stateFolder: String, archive: any ArchiveStore, sources: [ServeSource], restoreTargets: [ServeRestoreTarget], tailOptions: TailOptions,
        actions: DeletionActions? = nil, queueWorkers: ServeJob? = nil, queueRunner: ServeQueueRunner? = nil, eventSource: String = "archiver",
        erasure: ServeErasure? = nil, erasureWorker: ServeJob? = nil
    ) {
        self.stateFolder = stateFolder
        self.archive = archive
        self.sources = sources
        self.restoreTargets = restoreTargets
        self.tailOptions = tailOptions
        self.actions = actions
        self.queueWorkers = queueWorkers
        self.queueRunner = queueRunner
        self.eventSource = eventSource
        self.erasure = erasure
        self.erasureWorker = erasureWorker
    }
}

/// What an erasure asked for over HTTP needs from the configuration: the subject's HMAC (with the state folder's
/// key), the configured erasure actions filled for the subject, and the manifest a dry run answers. The subject is
/// given to ``prepare`` only: it is never kept, logged or put in a URL.
public struct ServeErasure: Sendable {
    /// A subject's erasure as it would be recorded: its HMAC, its filled actions (kept with the job) and the dry
    /// run's manifest (records found through the index, actions, estimate; surveyed, with each object's versions,
    /// storage class, age and early-deletion charge, when asked for).
    public struct Prepared: Sendable {
        public var subjectHMAC: String
        public var actions: JSONValue
        public var manifest: JSONValue

        public init(subjectHMAC: String, actions: JSONValue, manifest: JSONValue) {
            self.subjectHMAC = subjectHMAC
            self.actions = actions
            self.manifest = manifest
        }
    }

    /// Prepares the subject's erasure; with `survey`, the manifest's `objects` come from listings of the archive
    /// (as `archiver erase --dry-run` prints them), otherwise they are null.
    public var prepare: @Sendable (_ subject: String, _ erasures: ErasureStore, _ survey: Bool) async throws -> Prepared

    public init(prepare: @escaping @Sendable (_ subject: String, _ erasures: ErasureStore, _ survey: Bool) async throws -> Prepared) {
        self.prepare = prepare
    }
}

/// Runs one batch of the deletion queue now: rescues passed leases, makes due entries available, claims at most a
/// batch size of them and carries them out, as a worker's turn does.
public struct ServeQueueRunner: Sendable {
    /// The batch size when the request names none (`queue.batch-size`).
    public var defaultBatchSize: Int
    /// Runs a batch of at most the given size; what it did.
    public var run: @Sendable (_ batchSize: Int) async throws -> QueueRunSummary

    public init(defaultBatchSize: Int, run: @escaping @Sendable (_ batchSize: Int) async throws -> QueueRunSummary) {
        self.defaultBatchSize = defaultBatchSize
        self.run = run
    }
}

/// Work the service runs beside its tails for as long as it runs (the deletion queue's workers): started after the
/// state folder is locked, told to stop (`StopSignal`) when the service group shuts down, restarted with the tails'
/// backoff when it fails.
public struct ServeJob: Sendable {
    /// For logs: what the job is.
    public var name: String
    /// Runs until `stop` is set; throwing counts as a failure (logged, then run again after a backoff).
    public var run: @Sendable (StopSignal) async throws -> Void

    public init(name: String, run: @escaping @Sendable (StopSignal) async throws -> Void) {
        self.name = name
        self.run = run
    }
}

/// One configured source: its name as written (`jsonl:feed.jsonl`) and how to open it. Opening may fail (a table
/// without a stream, a database not there yet): the tail reports it and tries again with backoff.
public struct ServeSource: Sendable {
    public var name: String
    public var open: @Sendable () async throws -> any ChangeSource

    public init(name: String, open: @escaping @Sendable () async throws -> any ChangeSource) {
        self.name = name
        self.open = open
    }
}

/// One configured restore target: its name (what the API and the page take), what it points at, and how to open it.
public struct ServeRestoreTarget: Sendable {
    public var name: String
    /// As configured (`sqlite:app.db#users`, `dynamodb:users`).
    public var spec: String
    public var open: @Sendable () throws -> any RestoreTarget

    public init(name: String, spec: String, open: @escaping @Sendable () throws -> any RestoreTarget) {
        self.name = name
        self.spec = spec
        self.open = open
    }
}
