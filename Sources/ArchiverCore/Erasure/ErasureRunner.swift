import Foundation
import JSONToolkit
import Logging

/// Deletes archived objects for an erasure, reporting each key's fate. The core's default
/// (``StoreArchiveEraser``) deletes through ``ArchiveStore/delete(_:)``; an S3 archive's eraser deletes every
/// version and delete marker and reports request ids and storage classes.
public protocol ArchiveEraser: Sendable {
    /// Deletes the objects `keys` (relative to the archive root), all of them, every version where the store keeps
    /// versions. A key that does not exist counts as deleted.
    /// - Returns: one event per key (outcome `deleted` or `failed`), store `archive`, operation `delete`.
    func erase(_ keys: [String], at date: Date) async -> [ErasureStore.Event]

    /// Deletes every version of `key` but the current one (a rewritten batched index: its older versions list the
    /// erased records). Nothing where the store keeps no versions.
    func purgeOlderVersions(of key: String, at date: Date) async -> [ErasureStore.Event]

    /// How many keys to hand over in one ``erase(_:at:)`` call.
    var chunkSize: Int { get }

    /// Every stored version of each of `keys` (relative to the archive root) with its size, age and storage class,
    /// read from listings (never a request per key); a key with none is missing. nil where the store cannot tell
    /// (what a dry run's early-deletion estimate reads).
    func versions(of keys: [String]) async throws -> [String: [StoredVersion]]?
}

extension ArchiveEraser {
    public func purgeOlderVersions(of key: String, at date: Date) async -> [ErasureStore.Event] { [] }
    public var chunkSize: Int { 1000 }
    public func versions(of keys: [String]) async throws -> [String: [StoredVersion]]? { nil }
}

/// What an erasure tells the world: the seam coordination (consumers acking an `erasure.requested` event before the
/// erase, `erasure.completed` after it) plugs into. The default says nothing and waits for nobody.
public protocol ErasureEventHook: Sendable {
    /// Called when a job is taken up, before anything is erased; throwing leaves the job queued (it is tried again by
    /// the next run), e.g. while a critical consumer has not acked.
    func requested(_ job: ErasureJob) async throws
    /// Called once a job has finished, with its receipt's text.
    func completed(_ job: ErasureJob, receipt: String?) async
}

/// Says nothing, waits for nobody.
public struct NoErasureEvents: ErasureEventHook {
    public init() {}
    public func requested(_ job: ErasureJob) async throws {}
    public func completed(_ job: ErasureJob, receipt: String?) async {}
}

/// Erases through the store's own delete: a folder unlinks the files, then syncs their folders.
public struct StoreArchiveEraser: ArchiveEraser {
    public let store: any ArchiveStore

    public init(store: any ArchiveStore) { self.store = store }

    public func erase(_ keys: [String], at date: Date) async -> [ErasureStore.Event] {
        do {
            try await store.delete(keys)
            return keys.map { ErasureStore.Event(at: date, store: "archive", operation: "delete", key: $0, outcome: "deleted") }
        } catch {
            return keys.map { ErasureStore.Event(at: date, store: "archive", operation: "delete", key: $0, outcome: "failed", detail: "\(error)") }
        }
    }
}

/// What a run of jobs did, for people and for `--json`.
public struct ErasureRunSummary: Sendable, Codable {
    public var jobs: [String] = []
    public var completed = 0
    public var withErrors = 0
    public var cancelled = 0
    public var failed = 0
    /// Jobs put back without erasing anything: they wait for their consumers' acks, or for a person.
    public var waiting = 0
    public init() {}

    enum CodingKeys: String, CodingKey {
        case jobs, completed, cancelled, failed, waiting
        case withErrors = "completed_with_errors"
    }
}

/// Where a running job stands, for its progress line.
public struct ErasureProgress: Sendable {
    public var job: String
    public var found: Int
    public var done: Int
    public var failed: Int
    public var seconds: Double
}

/// Carries out erasure jobs: every archived record of the subject (through the index: deleted per-record objects,
/// batched objects rewritten without them), then the subject's application data (the job's filled actions), in
/// steps that are each recorded in one transaction with their events and the index rows they erased. A job killed
/// at any moment is taken up again by the next run once its lease passes (or at once by `erase resume`), and does
/// only what is left. A cancel stops it between steps.
public final class ErasureRunner: Sendable {
    let erasures: ErasureStore
    let store: any ArchiveStore
    let eraser: any ArchiveEraser
    let executors: [any ActionExecutor]
    let roots: RootsConfiguration
    let receipts: ReceiptBook
    let clock: any WallClock
    let logger: Logger
    let owner: String
    let events: any ErasureEventHook
    /// Objects in one delete call, and calls in flight.
    let chunk: Int
    let concurrency: Int
    /// A job's lease: a job whose worker stops renewing it is taken up by another run after this long.
    public static let lease = 60.0

    public init(erasures: ErasureStore, store: any ArchiveStore, eraser: (any ArchiveEraser)? = nil, executors: [any ActionExecutor],
                roots: RootsConfiguration, receipts: ReceiptBook, clock: any WallClock = SystemClock(),
                logger: Logger = Logger(label: "archiver.erase"), chunk: Int? = nil, concurrency: Int = 8,
                events: any ErasureEventHook = NoErasureEvents()) {
        self.events = events
        self.erasures = erasures
        self.store = store
        self.eraser = eraser ?? StoreArchiveEraser(store: store)
        self.executors = executors
        self.roots = roots
        self.receipts = receipts
        self.clock = clock
        self.logger = logger
        owner = "\(ErasureStore.host):\(getpid()):\(UUID().uuidString.prefix(8))"
        self.chunk = max(1, chunk ?? (eraser ?? StoreArchiveEraser(store: store)).chunkSize)
        self.concurrency = max(1, concurrency)
    }

    /// Runs the job `id` (nil: every due job, oldest first) until done or cancelled; writes each finished job's
    /// receipt. A job another live run holds is left to it.
    public func run(_ id: String?, progress: (@Sendable (ErasureProgress) -> Void)? = nil) async throws -> ErasureRunSummary {
        var summary = ErasureRunSummary()
        while let job = try erasures.claim(id, owner: owner, lease: Self.lease, at: clock.now()) {
            do {
                try await events.requested(job)
            } catch {
                try erasures.release(job.id, because: "\(error)", at: clock.now(), coordination: ErasureEvents.coordinationID(job: job))
                logger.warning("an erasure waits: \(error)", metadata: ["erasure.job": "\(job.id)"])
                summary.jobs.append(job.id)
                if error is ErasureWaits { summary.waiting += 1 } else { summary.failed += 1 }
                if id != nil { break } else { continue }
            }
            ErasureMetrics.job("started")
            let state = try await carryOut(job, progress: progress)
            ErasureMetrics.job(state == .completed || state == .completedWithErrors ? "completed" : state == .cancelled ? "cancelled" : "failed")
            if state.isFinished {
                try receipts.writeMissing(erasures)
                await events.completed(try erasures.job(job.id), receipt: try? receipts.text(job.id))
            }
            summary.jobs.append(job.id)
            switch state {
            case .completed: summary.completed += 1
            case .completedWithErrors: summary.withErrors += 1
            case .cancelled: summary.cancelled += 1
            default: summary.failed += 1
            }
            if id != nil { break }
        }
        try receipts.writeMissing(erasures)
        return summary
    }

    /// Carries one claimed job out; returns the state it ended in.
    func carryOut(_ job: ErasureJob, progress: (@Sendable (ErasureProgress) -> Void)?) async throws -> ErasureJobState {
        let started = Date()
        var done = 0
        var failed = 0
        var found = 0
        logger.info("erasing a subject", metadata: ["erasure.job": "\(job.id)", "subject.hmac": "\(job.subjectHMAC.prefix(16))"])
        func report() {
            progress?(ErasureProgress(job: job.id, found: found, done: done, failed: failed, seconds: Date().timeIntervalSince(started)))
        }
        func cancelled() throws -> Bool {
            try erasures.heartbeat(job.id, owner: owner, lease: Self.lease, at: clock.now())
        }
        var failedKeys: Set<String> = []
        while true {
            if try cancelled() {
                _ = try erasures.finish(job.id, subjectHMAC: job.subjectHMAC, state: .cancelled, error: nil, at: clock.now())
                logger.notice("cancelled at a clean point; `archiver erase resume` continues it", metadata: ["erasure.job": "\(job.id)"])
                return .cancelled
            }
            let rows = try erasures.indexed(subjectHMAC: job.subjectHMAC).filter { !failedKeys.contains($0.archiveKey) }
            found = max(found, done + failed + rows.count)
            report()

            // The archive's subject index objects first: rewritten without the subject's lines while the index rows
            // that say which days to read are still there (a kill before the records go does this again: nothing left).
            let indexFailures = await rewriteIndexObjects(job, records: rows.map(\.archiveKey))
            failed += indexFailures
            if indexFailures > 0 { failedKeys.insert(SubjectIndexObjects.prefix) }
            if try cancelled() { continue }

            // Per-record objects: deleted many at once, a chunk's events and index rows recorded together.
            // In key order, so that a chunk is a range of names (a store may list just that range).
            let whole = rows.filter { $0.objectKey == nil }.map(\.archiveKey).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var chunks = stride(from: 0, to: whole.count, by: chunk).map { Array(whole[$0..<min(whole.count, $0 + chunk)]) }[...]
            while !chunks.isEmpty {
                if try cancelled() { break }
                let wave = chunks.prefix(concurrency)
                chunks = chunks.dropFirst(wave.count)
                let eraser = self.eraser
                let now = clock.now()
                let results = await withTaskGroup(of: [ErasureStore.Event].self) { group in
                    for keys in wave { group.addTask { await eraser.erase(keys, at: now) } }
                    var all: [[ErasureStore.Event]] = []
                    for await events in group { all.append(events) }
                    return all
                }
                for events in results {
                    let erased = events.filter { $0.outcome != "failed" }.map(\.key)
                    try erasures.record(job.id, events: events, erasedKeys: erased, subjectHMAC: job.subjectHMAC)
                    ErasureMetrics.objectsDeleted(erased.count)
                    done += erased.count
                    let bad = events.filter { $0.outcome == "failed" }
                    failed += bad.count
                    failedKeys.formUnion(bad.map(\.key))
                    if let first = bad.first {
                        logger.error("could not erase archive objects", metadata: ["erasure.job": "\(job.id)", "objects": "\(bad.count)", "error": "\(first.detail ?? "")"])
                    }
                }
                report()
            }

            // Batched objects: each rewritten without the subject's records (the rewrite's crash-safe primitive).
            let rewriter = BatchRewriter(store: store)
            var byObject: [String: [String]] = [:]
            for row in rows { if let object = row.objectKey { byObject[object, default: []].append(row.archiveKey) } }
            for (index, keys) in byObject.sorted(by: { $0.key < $1.key }) {
                if try cancelled() { break }
                let now = clock.now()
                do {
                    let outcome = try await rewriter.rewrite(index: index, without: Set(keys))
                    // Where the store keeps versions, the old object's and the index's older versions still hold the records.
                    var purged: [ErasureStore.Event] = []
                    if let outcome, outcome.to != outcome.from { purged += await eraser.erase([outcome.from], at: now) }
                    purged += await eraser.purgeOlderVersions(of: index, at: now)
                    if let bad = purged.first(where: { $0.outcome == "failed" }) {
                        throw ErasureError.jobState("an older version of \(bad.key) could not be deleted: \(bad.detail ?? "")")
                    }
                    let event = ErasureStore.Event(
                        at: now, store: "archive", operation: "rewrite", key: outcome?.from ?? index,
                        outcome: outcome == nil ? "absent" : (outcome!.to == nil ? "deleted" : "rewritten"),
                        detail: outcome.map { "dropped \($0.dropped) of \($0.dropped + $0.kept) records" + ($0.to.map { ", kept in \($0)" } ?? "") })
                    try erasures.record(job.id, events: [event] + purged.filter { $0.outcome != "absent" }, erasedKeys: keys, subjectHMAC: job.subjectHMAC)
                    ErasureMetrics.objectsDeleted((outcome == nil ? 0 : 1) + purged.filter { $0.outcome != "absent" }.count)
                    done += keys.count
                } catch {
                    let event = ErasureStore.Event(at: now, store: "archive", operation: "rewrite", key: index, outcome: "failed", detail: "\(error)")
                    try erasures.record(job.id, events: [event], erasedKeys: [], subjectHMAC: job.subjectHMAC)
                    failed += keys.count
                    failedKeys.formUnion(keys)
                    logger.error("could not rewrite a batched object without the subject's records", metadata: ["erasure.job": "\(job.id)", "s3.key": "\(index)", "error": "\(error)"])
                }
                report()
            }
            if try cancelled() { continue }

            // The subject's application data: each action once (a resumed job skips those its log shows done).
            let doneActions = Set(try erasures.events(job.id).filter { $0.store != "archive" && $0.outcome == "done" }.map { "\($0.store)\n\($0.key)" })
            var prepared: [PreparedAction] = []
            var actionEvents: [ErasureStore.Event] = []
            for (position, action) in ErasurePlan.actions(from: job.actions).enumerated() where !doneActions.contains("\(action.root)\n\(action.target.path)") {
                guard let root = roots[action.root] else {
                    actionEvents.append(.init(at: clock.now(), store: action.root, operation: action.target.kind.rawValue, key: action.target.path, outcome: "failed",
                                              detail: "the root '\(action.root)' is no longer configured"))
                    continue
                }
                if let unsafe = action.unsafe ?? action.target.problem(under: root) {
                    actionEvents.append(.init(at: clock.now(), store: action.root, operation: action.target.kind.rawValue, key: action.target.path, outcome: "failed",
                                              detail: "never run: \(unsafe)"))
                    continue
                }
                prepared.append(PreparedAction(id: "\(job.id)#\(position)", target: action.target, rootName: action.root, root: root, archiveKey: job.id))
            }
            for action in prepared {
                guard let executor = executors.first(where: { $0.handles(action.root) }) else {
                    actionEvents.append(.init(at: clock.now(), store: action.rootName, operation: action.target.kind.rawValue, key: action.target.path,
                                              outcome: "failed", detail: "no executor for \(action.root)"))
                    continue
                }
                let result = await executor.execute([action]).first ?? .failed(ActionFailure(code: "no-result", message: "no result"))
                switch result {
                case .completed(let outcome):
                    actionEvents.append(.init(at: clock.now(), store: action.rootName, operation: action.target.kind.rawValue, key: action.target.path,
                                              outcome: "done", detail: outcome.serialized))
                case .failed(let failure):
                    actionEvents.append(.init(at: clock.now(), store: action.rootName, operation: action.target.kind.rawValue, key: action.target.path,
                                              outcome: "failed", detail: failure.message))
                }
            }
            if !actionEvents.isEmpty { try erasures.record(job.id, events: actionEvents, erasedKeys: [], subjectHMAC: job.subjectHMAC) }
            let actionFailures = actionEvents.count { $0.outcome == "failed" }
            failed += actionFailures
            report()

            let state: ErasureJobState = failedKeys.isEmpty && actionFailures == 0 ? .completed : .completedWithErrors
            if try erasures.finish(job.id, subjectHMAC: job.subjectHMAC, state: state, error: nil, at: clock.now()) {
                logger.info("erasure finished", metadata: ["erasure.job": "\(job.id)", "state": "\(state.rawValue)", "erased": "\(done)", "failed": "\(failed)"])
                return state
            }
            // Records of the subject were indexed while it ran (a tail that read them before the suppression): again.
        }
    }
    /// Rewrites each of the archive's subject index objects that names the subject for one of `records` without its
    /// lines (the same name, replaced in one write; older versions deleted where the store keeps them), or deletes it
    /// (every version) when no line is left. All written in one call and deleted in one; one event and one transaction
    /// per object; returns the failures.
    func rewriteIndexObjects(_ job: ErasureJob, records: [String]) async -> Int {
        guard !records.isEmpty else { return 0 }
        let store = ErasureStore.subjectIndexStore
        var failures = 0
        func failed(_ key: String, _ error: any Error) {
            let event = ErasureStore.Event(at: clock.now(), store: store, operation: "rewrite", key: key, outcome: "failed", detail: "\(error)")
            try? erasures.record(job.id, events: [event], erasedKeys: [], subjectHMAC: job.subjectHMAC)
            failures += 1
            logger.error("could not rewrite a subject index object without the subject", metadata: ["erasure.job": "\(job.id)", "s3.key": "\(key)", "error": "\(error)"])
        }
        let naming: [(key: String, scan: SubjectIndexObjects.Scan)]
        do {
            naming = try await SubjectIndexObjectReader(store: self.store).naming(job.subjectHMAC, records: records)
        } catch {
            failed(SubjectIndexObjects.prefix, error)
            return failures
        }
        // The replacements made side by side (each a gzip of up to a few MB), then written in one call (a folder syncs
        // once for all of them), those left without a line deleted in one; then each one's events recorded.
        let now = clock.now()
        let (eraser, archive) = (eraser, self.store)
        let made = await concurrently(naming, limit: concurrency) { key, scan in SubjectIndexObjects.rewritten(scan, key: key) }
        let replacements = made.compactMap { $0 }
        let putFailures = replacements.isEmpty ? [:] : await archive.put(replacements)
        let notWritten = Dictionary(putFailures.map { (replacements[$0.key].key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let emptied = zip(naming, made).filter { $0.1 == nil }.map(\.0.key)
        let deletions = Dictionary(grouping: emptied.isEmpty ? [] : await eraser.erase(emptied, at: now), by: \.key)
        // A versioned store keeps the older versions of a rewritten object, which name the subject: deleted too.
        let rewritten = replacements.map(\.key).filter { notWritten[$0] == nil }
        let purges = Dictionary(uniqueKeysWithValues: zip(rewritten, await concurrently(rewritten, limit: concurrency) { key in
            await eraser.purgeOlderVersions(of: key, at: now)
        }))
        for ((key, scan), replacement) in zip(naming, made) {
            do {
                if let error = notWritten[key] { throw error }
                let purged = replacement == nil ? deletions[key] ?? [] : purges[key] ?? []
                if let bad = purged.first(where: { $0.outcome == "failed" }) {
                    throw ErasureError.jobState("a version of \(bad.key) could not be deleted: \(bad.detail ?? "")")
                }
                let event = ErasureStore.Event(at: now, store: store, operation: "rewrite", key: key, outcome: replacement == nil ? "deleted" : "rewritten",
                                               detail: "dropped \(scan.named.count) of \(scan.count) lines")
                // A rewrite's deleted older versions are events of their own; a deletion's are this event.
                let versions = replacement == nil ? [] : purged.filter { $0.outcome != "absent" }.map { event -> ErasureStore.Event in
                    var event = event
                    event.store = store
                    return event
                }
                try erasures.record(job.id, events: [event] + versions, erasedKeys: [], subjectHMAC: job.subjectHMAC)
            } catch {
                failed(key, error)
            }
        }
        return failures
    }
}
