import Foundation
import GRDB
import Logging

/// A place the outbox delivers events to: a JSON-lines file, a webhook, an EventBridge bus, an SQS queue.
public protocol EventTarget: Sendable {
    /// Names the target in the delivery state (`outbox_targets`); the same target must keep its name across runs.
    var name: String { get }

    /// Delivers `events`, in order (they are in outbox order), and says how far it got.
    ///
    /// At least once: an event reported not delivered is offered again (first in the next call), so a target may
    /// have delivered it already; consumers drop duplicates by the event's id.
    func deliver(_ events: [OutboxEvent]) async -> DeliveryResult
}

/// How far a delivery got: `delivered` events from the start were delivered; then `failure`, if any, about the next.
public struct DeliveryResult: Sendable, Equatable {
    public enum Failure: Sendable, Equatable {
        /// A failure that may pass (5xx, a connection refused, throttling): the event is tried again after a backoff.
        case retry(String)
        /// The target refused the event for good (a 4xx): it is parked for this target with the reason, and delivery
        /// goes on with the next event.
        case park(String)
        /// The target is gone (410 Gone): it is disabled and gets nothing more until a person enables it again.
        case disable(String)
    }

    public var delivered: Int
    public var failure: Failure?

    public init(delivered: Int, failure: Failure? = nil) {
        self.delivered = delivered
        self.failure = failure
    }
}

/// What one delivery pass did, per target.
public struct DeliverySummary: Sendable, Equatable {
    public var delivered = 0
    public var parked = 0
    public var failures = 0
    public init() {}
}

/// Delivers the outbox to its targets: each target has its own cursor (`outbox_targets.delivered_seq`), moved only
/// after the target said the events were delivered, so a process killed mid-delivery delivers them again (at least
/// once, in outbox order, with the same ids).
public final class OutboxDelivery: Sendable {
    let database: DatabaseQueue
    let targets: [any EventTarget]
    let batchSize: Int
    let backoff: Backoff
    let clock: any WallClock
    let logger: Logger

    public convenience init(queue: QueueStore, targets: [any EventTarget], settings: EventsConfiguration = EventsConfiguration(),
                            clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(), logger: Logger = Logger(label: "archiver.events")) {
        self.init(database: queue.database, targets: targets, settings: settings, clock: clock, random: random, logger: logger)
    }

    public convenience init(checkpoints: CheckpointStore, targets: [any EventTarget], settings: EventsConfiguration = EventsConfiguration(),
                            clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(), logger: Logger = Logger(label: "archiver.events")) {
        self.init(database: checkpoints.database, targets: targets, settings: settings, clock: clock, random: random, logger: logger)
    }

    init(database: DatabaseQueue, targets: [any EventTarget], settings: EventsConfiguration = EventsConfiguration(),
                clock: any WallClock = SystemClock(), random: any RandomSource = SystemRandom(), logger: Logger = Logger(label: "archiver.events")) {
        self.database = database
        self.targets = targets
        batchSize = settings.batchSize
        backoff = Backoff(base: settings.retryBase.seconds, maximum: settings.retryMax.seconds, random: random)
        self.clock = clock
        self.logger = logger
    }

    /// Delivers what is due to every target, until each is caught up or fails. Returns totals.
    @discardableResult
    public func run() async throws -> DeliverySummary {
        var total = DeliverySummary()
        for target in targets {
            let done = try await deliver(to: target)
            total.delivered += done.delivered
            total.parked += done.parked
            total.failures += done.failures
        }
        return total
    }

    private func deliver(to target: any EventTarget) async throws -> DeliverySummary {
        var summary = DeliverySummary()
        while true {
            let (events, attempts) = try due(for: target.name, now: clock.now())
            guard !events.isEmpty else { return summary }
            let result = await target.deliver(events)
            let parks = try record(result, of: events, attempts: attempts, target: target.name, summary: &summary)
            if parks { continue }
            if result.failure != nil || events.count < batchSize { return summary }
        }
    }

    /// The events due for a target (none while it waits out a backoff or is disabled), and its failed attempts so far.
    private func due(for target: String, now: Date) throws -> ([OutboxEvent], Int) {
        try database.write { db -> ([OutboxEvent], Int) in
            try db.execute(sql: "INSERT INTO outbox_targets (target) VALUES (?) ON CONFLICT (target) DO NOTHING", arguments: [target])
            let row = try Row.fetchOne(db, sql: "SELECT * FROM outbox_targets WHERE target = ?", arguments: [target])!
            if (row["disabled"] as String?) != nil || (row["next_attempt_at"] as Double) > now.timeIntervalSince1970 { return ([], 0) }
            let cursor: Int64 = row["delivered_seq"]
            let events = try Outbox.events(db, after: cursor, limit: batchSize)
            return (events, row["attempts"])
        }
    }

    /// Moves the target's cursor past what was delivered (and past a parked event); records a failure. Returns whether
    /// an event was parked (delivery then goes on).
    private func record(_ result: DeliveryResult, of events: [OutboxEvent], attempts: Int, target: String, summary: inout DeliverySummary) throws -> Bool {
        let delivered = min(max(0, result.delivered), events.count)
        summary.delivered += delivered
        var moveTo = delivered > 0 ? events[delivered - 1].seq : nil
        var parks = false
        let stamp = clock.now()
        try database.write { db in
            switch result.failure {
            case nil:
                break
            case .retry(let reason)?:
                summary.failures += 1
                let wait = backoff.delay(afterAttempt: attempts + 1)
                try db.execute(
                    sql: "UPDATE outbox_targets SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE target = ?",
                    arguments: [stamp.timeIntervalSince1970 + wait, reason, target])
                logger.warning("an event could not be delivered; it will be tried again",
                               metadata: ["events.target": "\(target)", "event.id": "\(events[min(delivered, events.count - 1)].id)", "error": "\(reason)"])
            case .park(let reason)?:
                guard delivered < events.count else { break }
                parks = true
                summary.parked += 1
                try db.execute(
                    sql: "INSERT INTO outbox_parked (target, event, reason, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    arguments: [target, events[delivered].id, reason, stamp.timeIntervalSince1970])
                moveTo = events[delivered].seq
                logger.error("a target refused an event; it is parked for that target",
                             metadata: ["events.target": "\(target)", "event.id": "\(events[delivered].id)", "error": "\(reason)"])
            case .disable(let reason)?:
                summary.failures += 1
                try db.execute(sql: "UPDATE outbox_targets SET disabled = ?, last_error = ? WHERE target = ?", arguments: [reason, reason, target])
                logger.error("a target is gone; it was disabled", metadata: ["events.target": "\(target)", "error": "\(reason)"])
            }
            if let moveTo {
                let reset = result.failure == nil || parks ? ", attempts = 0, next_attempt_at = 0, last_error = NULL" : ""
                try db.execute(
                    sql: "UPDATE outbox_targets SET delivered_seq = MAX(delivered_seq, ?), delivered = delivered + ?\(reset) WHERE target = ?",
                    arguments: [moveTo, delivered, target])
            }
        }
        return parks
    }

    /// Delivery state per target: how far it got, what is left, its last error, parked events.
    public func states() throws -> [TargetState] {
        try database.read { db in
            let last = try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM outbox_events") ?? 0
            return try targets.map { target in
                let row = try Row.fetchOne(db, sql: "SELECT * FROM outbox_targets WHERE target = ?", arguments: [target.name])
                let cursor: Int64 = row?["delivered_seq"] ?? 0
                return TargetState(
                    target: target.name, delivered: row?["delivered"] ?? 0,
                    pending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox_events WHERE seq > ?", arguments: [cursor]) ?? Int(last - cursor),
                    parked: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox_parked WHERE target = ?", arguments: [target.name]) ?? 0,
                    lastError: row?["last_error"], disabled: row?["disabled"])
            }
        }
    }
}

/// One target's delivery state.
public struct TargetState: Sendable, Equatable {
    public var target: String
    public var delivered: Int
    public var pending: Int
    public var parked: Int
    public var lastError: String?
    public var disabled: String?
}

/// Appends events to a JSON-lines file, one CloudEvents envelope a line, and syncs the file before it reports them
/// delivered. Consumers read it like a feed (and may see an event twice after a crash, with the same id).
public struct JSONLinesEventTarget: EventTarget {
    public let path: String
    public var name: String { "jsonl:\(path)" }

    public init(path: String) { self.path = path }

    public func deliver(_ events: [OutboxEvent]) async -> DeliveryResult {
        var text = ""
        for event in events {
            text += event.envelope
            text += "\n"
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, FileSystem.fileMode)
        guard fd >= 0 else { return DeliveryResult(delivered: 0, failure: .retry("cannot open \(path): \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return DeliveryResult(delivered: 0, failure: .retry("cannot append to \(path): \(String(cString: strerror(errno)))"))
            }
            offset += written
        }
        bytes = []
        guard fsync(fd) == 0 else { return DeliveryResult(delivered: 0, failure: .retry("cannot sync \(path): \(String(cString: strerror(errno)))")) }
        return DeliveryResult(delivered: events.count)
    }
}
