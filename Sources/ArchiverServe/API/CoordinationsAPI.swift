import ArchiverCore
import Foundation
import Hummingbird
import JSONToolkit
import Logging

/// Coordinated deletions: listed by state, one with who acked when, who is still awaited and the time left, and a
/// consumer's acknowledgement (or heartbeat) over HTTP, with the same semantics as `archiver ack`: idempotent, an
/// unknown coordination 404, a consumer it does not wait for 409 with the consumers it waits for, a late ack recorded;
/// and a person's release or cancel of a waiting or parked one, as `archiver coordination release` / `cancel`.
/// The coordinator itself (timeouts, releases, delivery of events) runs with the queue's workers.
struct CoordinationsAPI: APIFeature {
    /// The longest `detail` an ack may carry.
    static let longestDetail = 2000

    func addRoutes(to routes: APIRoutes) {
        routes.add(.get, "/coordinations") { request, _, context in
            let query = try QueryParameters(request, allowed: ["state", "limit"])
            let state = try query.choice("state", CoordinationState.allCases.map(\.rawValue)).flatMap(CoordinationState.init(rawValue:))
            let limit = try query.int("limit", in: 1...1000, default: 100)
            let (views, more) = try Self.list(context, state: state, limit: limit)
            let now = Date()
            return Response.json(.object([
                ("limit", .integer(limit)), ("more", .bool(more)), ("coordinations", .array(views.map { $0.json(now: now) })),
            ]))
        }
        routes.add(.get, "/coordinations/{id}") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            return Response.json(try Self.store(context).show(try requestContext.pathParameter("id")).json(now: Date()))
        }
        for decision in Decision.allCases {
            routes.add(.post, "/coordinations/{id}/\(decision.rawValue)") { request, requestContext, context in
                _ = try QueryParameters(request, allowed: [])
                let view = try Self.decide(context, decision, id: try requestContext.pathParameter("id"))
                return Response.json(view.json(now: Date()))
            }
        }
        routes.add(.post, "/coordinations/{id}/acks") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            let id = try requestContext.pathParameter("id")
            var body = try await JSONBody(request, context: requestContext)
            let consumer = try body.requiredString("consumer", "the consumer's name, as the rule's coordinate.consumers names it")
            let statusText = try body.string("status") ?? AckStatus.completed.rawValue
            guard let status = AckStatus(rawValue: statusText) else {
                throw APIError.badRequest("'status' must be completed or failed, not '\(statusText.prefix(40))'", field: "status")
            }
            let detail = try body.string("detail")
            if let detail, detail.utf8.count > Self.longestDetail {
                throw APIError.badRequest("'detail' is \(detail.utf8.count) bytes long; keep it to \(Self.longestDetail)", field: "detail")
            }
            let heartbeat = try body.bool("heartbeat", default: false)
            try body.finish()
            let result = try Self.store(context).ack(id, consumer: consumer, status: status, detail: detail, heartbeat: heartbeat, now: Date())
            context.logger.info("a consumer's ack was received over HTTP", metadata: [
                "coordination.id": "\(id)", "consumer": "\(consumer)", "ack.status": "\(heartbeat ? "heartbeat" : status.rawValue)",
                "ack.outcome": "\(result.outcome.rawValue)", "coordination.state": "\(result.state.rawValue)",
            ])
            return Response.json(Self.json(result, id: id, consumer: consumer))
        }
    }

    var stats: StatsMember? {
        StatsMember(name: "coordinations", schema: "CoordinationStats") { context in try Self.stats(context) }
    }

    // MARK: Operations (the page uses them too)

    /// The coordinations of the state database the service holds.
    static func store(_ context: ServeContext) -> CoordinationStore {
        CoordinationStore(checkpoints: context.checkpoints, eventSource: context.parts.eventSource, logger: context.logger)
    }

    /// Coordinations of a state (all: nil), newest first, at most `limit`; and whether there are more.
    static func list(_ context: ServeContext, state: CoordinationState?, limit: Int) throws -> (views: [CoordinationView], more: Bool) {
        let views = try store(context).list(state: state, limit: limit + 1)
        return (Array(views.prefix(limit)), views.count > limit)
    }

    /// A person's decision on a waiting or parked coordination, as `archiver coordination release` / `cancel`.
    enum Decision: String, CaseIterable {
        case release, cancel
    }

    /// Releases or cancels the coordination's held actions; the coordination afterwards. 409 naming its state when it
    /// is neither waiting nor parked.
    static func decide(_ context: ServeContext, _ decision: Decision, id: String) throws -> CoordinationView {
        let store = store(context)
        let view = try store.show(id)
        _ = try store.resolve(view.id, release: decision == .release, now: Date())
        context.logger.notice(decision == .release ? "a coordination was released by a person" : "a coordination's actions were cancelled by a person",
                              metadata: ["coordination.id": "\(view.id)", "coordination.was": "\(view.state.rawValue)"])
        return try store.show(view.id)
    }

    /// Counts per state and per consumer status, late acks, and each delivery target's progress.
    static func stats(_ context: ServeContext) throws -> JSONValue {
        let store = store(context)
        let states = try store.counts()
        let consumers = try store.consumerCounts()
        return .object([
            ("states", .object(CoordinationState.allCases.map { ($0.rawValue, .integer(states[$0] ?? 0)) })),
            ("consumers", .object(ConsumerStatus.allCases.map { ($0.rawValue, .integer(consumers.byStatus[$0] ?? 0)) })),
            ("late_acks", .integer(consumers.late)),
            ("outbox", .array(try store.outboxTargets().map { target in
                .object([
                    ("target", .string(target.target)), ("delivered", .integer(target.delivered)), ("backlog", .integer(target.backlog)),
                    ("parked", .integer(target.parked)), ("failed_attempts", .integer(target.failedAttempts)),
                    ("last_error", target.lastError.map(JSONValue.string) ?? .null), ("disabled", .bool(target.disabled)),
                ])
            })),
        ])
    }

    /// What an ack did, as `archiver ack --json` prints it.
    static func json(_ result: AckResult, id: String, consumer: String) -> JSONValue {
        .object([
            ("coordination", .string(id)), ("consumer", .string(consumer)), ("outcome", .string(result.outcome.rawValue)),
            ("state", .string(result.state.rawValue)), ("deadline", result.deadline.map { .string(QueueTime.text($0)) } ?? .null),
        ])
    }

    let openAPI = CoordinationsOpenAPI.text
}
