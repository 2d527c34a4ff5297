import JSONToolkit
import Foundation
import Logging

/// A source of consumers' acknowledgements other than the command line (an SQS queue of `consumer.completed` events).
public protocol AckSource: Sendable {
    /// Receives waiting acks, hands each to `record` (which makes it durable), and only then removes it from the
    /// source; an ack `record` throws for stays in the source, to be received again. Returns how many it recorded.
    func receive(record: @Sendable (ReceivedAck) throws -> Void) async throws -> Int
}

/// An acknowledgement read from a `consumer.completed` event.
public struct ReceivedAck: Sendable, Equatable {
    public var coordination: String
    public var consumer: String
    public var status: AckStatus
    public var detail: String?
    public var heartbeat: Bool

    public init(coordination: String, consumer: String, status: AckStatus = .completed, detail: String? = nil, heartbeat: Bool = false) {
        self.coordination = coordination
        self.consumer = consumer
        self.status = status
        self.detail = detail
        self.heartbeat = heartbeat
    }

    /// Reads a `consumer.completed` CloudEvent: `data.coordination_id`, `data.consumer`, `data.status`, `data.detail`,
    /// `data.heartbeat`. Nil when it is not one.
    public init?(event: CloudEvent) {
        guard event.type == CoordinationEvents.consumerCompleted, let id = event.data["coordination_id"]?.stringValue,
              let consumer = event.data["consumer"]?.stringValue
        else { return nil }
        let status = event.data["status"]?.stringValue.flatMap(AckStatus.init(rawValue:)) ?? .completed
        var heartbeat = false
        if case .bool(true)? = event.data["heartbeat"] { heartbeat = true }
        self.init(coordination: id, consumer: consumer, status: status, detail: event.data["detail"]?.stringValue, heartbeat: heartbeat)
    }
}

/// Runs coordination beside the queue's workers: timeouts, completions, acks from the acks queue, and delivery of
/// the outbox. `tail` and `queue run` step it with their workers; `coordination run` runs it alone.
public final class Coordinator: Sendable {
    public let store: CoordinationStore
    let delivery: OutboxDelivery?
    let acks: (any AckSource)?
    let clock: any WallClock
    let logger: Logger

    public init(store: CoordinationStore, delivery: OutboxDelivery?, acks: (any AckSource)? = nil, clock: any WallClock = SystemClock(),
                logger: Logger = Logger(label: "archiver.coordination")) {
        self.store = store
        self.delivery = delivery
        self.acks = acks
        self.clock = clock
        self.logger = logger
    }

    /// What one step did.
    public struct Step: Sendable, Equatable {
        public var tick = TickSummary()
        public var acks = 0
        public var delivery = DeliverySummary()
    }

    /// Whether acks come from a queue (then ``pollAcks(stop:)`` should run beside the steps).
    public var hasAckSource: Bool { acks != nil }

    /// Receives acks from the acks queue until `stop` (each receive long-polls), beside the steps.
    public func pollAcks(stop: StopSignal) async {
        while !stop.isStopped && !Task.isCancelled {
            let received = await receiveAcks()
            if received < 0 { await stop.sleep(seconds: 5) }
        }
    }

    /// One receive from the acks queue: how many acks it recorded (-1 when the queue could not be read).
    func receiveAcks() async -> Int {
        guard let acks else { return 0 }
        let store = self.store
        let clock = self.clock
        let logger = self.logger
        do {
            return try await acks.receive { ack in
                do {
                    _ = try store.ack(ack.coordination, consumer: ack.consumer, status: ack.status, detail: ack.detail, heartbeat: ack.heartbeat, now: clock.now())
                } catch let error as CoordinationError {
                    // Refused for good (unknown id, unexpected consumer): logged, and removed from the queue.
                    logger.warning("an ack from the acks queue was refused", metadata: ["coordination.id": "\(ack.coordination)", "consumer": "\(ack.consumer)", "error": "\(error)"])
                }
            }
        } catch {
            logger.warning("the acks queue could not be read; trying again later", metadata: ["error": "\(error)"])
            return -1
        }
    }

    /// One pass: acks in (when `acks`: one receive from the acks queue), timeouts and completions decided, events out.
    /// `sweep` false leaves out the search of every released coordination for those whose actions have all ended
    /// (the queue worker completes a batch's coordinations itself and sweeps every few seconds and when idle).
    @discardableResult
    public func step(acks receiving: Bool = false, sweep: Bool = true) async throws -> Step {
        var step = Step()
        if receiving, acks != nil { step.acks = max(0, await receiveAcks()) }
        step.tick = try store.tick(now: clock.now(), sweep: sweep)
        if let delivery { step.delivery = try await delivery.run() }
        return step
    }

    /// Steps until `stop` (or once), sleeping at most `poll` between idle steps.
    public func run(stop: StopSignal, once: Bool, poll: Double) async throws -> Step {
        var total = Step()
        let poller = !once && acks != nil ? Task { await pollAcks(stop: stop) } : nil
        defer { poller?.cancel() }
        while !stop.isStopped {
            let step = try await self.step(acks: once)
            total.acks += step.acks
            total.tick.timedOutConsumers += step.tick.timedOutConsumers
            total.tick.released += step.tick.released
            total.tick.parked += step.tick.parked
            total.tick.completed += step.tick.completed
            total.delivery.delivered += step.delivery.delivered
            total.delivery.parked += step.delivery.parked
            total.delivery.failures += step.delivery.failures
            if once { break }
            let wait = try store.nextDeadline().map { max(0.01, $0.timeIntervalSince(clock.now())) } ?? poll
            await stop.sleep(seconds: min(wait, poll))
        }
        return total
    }
}
