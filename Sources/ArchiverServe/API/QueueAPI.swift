import ArchiverCore
import Foundation
import Hummingbird
import JSONToolkit
import Logging

/// The deletion queue: its statistics (also the `queue` member of `/stats`), a batch run now, entries listed by state
/// and rule, one entry with its error history, retry / cancel / drop of one entry or of everything a filter selects.
/// A state folder whose configuration has no rules answers too: its queue is empty.
struct QueueAPI: APIFeature {
    /// The largest batch `POST /queue/run` takes (a request waits for its batch).
    static let largestBatch = 10_000

    func addRoutes(to routes: APIRoutes) {
        routes.add(.get, "/queue/stats") { request, _, context in
            _ = try QueryParameters(request, allowed: [])
            return Response.json(try Self.stats(context))
        }
        routes.add(.post, "/queue/run") { request, _, context in
            let query = try QueryParameters(request, allowed: ["batch_size"])
            let runner = try Self.runner(context)
            let batchSize = try query.int("batch_size", in: 1...Self.largestBatch, default: min(runner.defaultBatchSize, Self.largestBatch))
            return Response.json(Self.json(try await Self.run(context, runner: runner, batchSize: batchSize), batchSize: batchSize))
        }
        routes.add(.get, "/queue/entries") { request, _, context in
            let query = try QueryParameters(request, allowed: ["state", "rule", "limit"])
            let state = try query.choice("state", QueueState.allCases.map(\.rawValue)).flatMap(QueueState.init(rawValue:))
            let limit = try query.int("limit", in: 1...1000, default: 100)
            let (entries, more) = try Self.list(context, filter: QueueFilter(states: state.map { [$0] } ?? [], rule: query.string("rule")), limit: limit)
            return Response.json(.object([
                ("limit", .integer(limit)), ("more", .bool(more)), ("entries", .array(entries.map(Self.summary))),
            ]))
        }
        routes.add(.get, "/queue/entries/{id}") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            return Response.json(try Self.entry(context, id: try requestContext.pathParameter("id")).json)
        }
        for change in Change.allCases {
            routes.add(.post, "/queue/entries/{id}/\(change.rawValue)") { request, requestContext, context in
                _ = try QueryParameters(request, allowed: [])
                let entry = try Self.entry(context, id: try requestContext.pathParameter("id"))
                try Self.changeOne(context, change, entry: entry)
                return Response.json(try Self.entry(context, id: entry.id).json)
            }
            routes.add(.post, "/queue/entries/\(change.rawValue)") { request, requestContext, context in
                _ = try QueryParameters(request, allowed: [])
                let filter = try await Self.filter(request, requestContext, context)
                return Response.json(Self.json(try Self.change(context, change, filter), change))
            }
        }
        routes.add(.post, "/queue/entries/drop") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            let filter = try await Self.filter(request, requestContext, context)
            return Response.json(Self.json(try Self.drop(context, filter), nil))
        }
        routes.add(.delete, "/queue/entries/{id}") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            let entry = try Self.entry(context, id: try requestContext.pathParameter("id"))
            try Self.dropOne(context, entry: entry)
            return Response.json(.object([("dropped", .string(entry.id))]))
        }
    }

    var stats: StatsMember? {
        StatsMember(name: "queue", schema: "QueueStats") { context in try Self.stats(context) }
    }

    // MARK: Operations (the page uses them too)

    /// The queue of the state database the service holds.
    static func store(_ context: ServeContext) -> QueueStore { QueueStore(checkpoints: context.checkpoints) }

    /// Counts per state, the oldest waiting entry's age, attempts spread and errors by code: a few indexed reads (the
    /// counts are kept by triggers), whatever the queue's length.
    static func stats(_ context: ServeContext, now: Date = Date()) throws -> JSONValue {
        try store(context).stats().json(now: now)
    }

    static func runner(_ context: ServeContext) throws -> ServeQueueRunner {
        guard let runner = context.parts.queueRunner else {
            throw APIError.conflict(
                "the configuration names no roots, so nothing here can carry queued actions out; add roots: (and rules:) to the configuration file")
        }
        return runner
    }

    /// Runs one batch of due entries now.
    static func run(_ context: ServeContext, runner: ServeQueueRunner, batchSize: Int) async throws -> QueueRunSummary {
        let started = Date()
        var summary = try await runner.run(batchSize)
        summary.seconds = Date().timeIntervalSince(started)
        context.logger.info("a batch of the deletion queue was run on request", metadata: [
            "queue.batch_size": "\(batchSize)", "queue.claimed": "\(summary.claimed)", "queue.completed": "\(summary.completed)",
            "queue.retrying": "\(summary.retrying)", "queue.parked": "\(summary.parked)",
        ])
        return summary
    }

    /// Entries the filter selects, oldest first, at most `limit`; and whether there are more.
    static func list(_ context: ServeContext, filter: QueueFilter, limit: Int) throws -> (entries: [QueueEntry], more: Bool) {
        let entries = try store(context).list(filter, limit: limit + 1)
        return (Array(entries.prefix(limit)), entries.count > limit)
    }

    /// One entry, by id or by the start of one (at least 4 hex digits).
    static func entry(_ context: ServeContext, id: String) throws -> QueueEntry {
        try store(context).entry(id)
    }

    enum Change: String, CaseIterable {
        case retry, cancel
    }

    /// Retries or cancels what the filter selects.
    static func change(_ context: ServeContext, _ change: Change, _ filter: QueueFilter) throws -> QueueStore.Changed {
        let store = store(context)
        let changed = change == .retry ? try store.retry(filter, now: Date()) : try store.cancel(filter, now: Date())
        context.logger.info("queue entries \(change == .retry ? "retried" : "cancelled")", metadata: [
            "queue.changed": "\(changed.changed)", "queue.left_alone": "\(changed.leftAlone)",
        ])
        return changed
    }

    static func drop(_ context: ServeContext, _ filter: QueueFilter) throws -> QueueStore.Changed {
        let changed = try store(context).drop(filter)
        context.logger.info("queue entries dropped", metadata: ["queue.changed": "\(changed.changed)", "queue.left_alone": "\(changed.leftAlone)"])
        return changed
    }

    /// Retries or cancels one entry; a conflict naming its state when the state does not allow it.
    static func changeOne(_ context: ServeContext, _ change: Change, entry: QueueEntry) throws {
        let changed = try Self.change(context, change, QueueFilter(ids: [entry.id]))
        guard changed.changed == 1 else {
            throw APIError.conflict(
                change == .retry
                    ? "entry \(entry.id.prefix(16)) is \(entry.state.rawValue); only parked, retrying, scheduled and cancelled entries can be retried"
                    : "entry \(entry.id.prefix(16)) is \(entry.state.rawValue); only waiting and parked entries can be cancelled",
                field: "id")
        }
    }

    static func dropOne(_ context: ServeContext, entry: QueueEntry) throws {
        guard try drop(context, QueueFilter(ids: [entry.id])).changed == 1 else {
            throw APIError.conflict(
                entry.state == .held
                    ? "entry \(entry.id.prefix(16)) is held by its coordination, which reports every action it held; cancel the entry, or cancel the coordination, first"
                    : "entry \(entry.id.prefix(16)) is executing (a worker is on it); drop it once it has finished",
                field: "id")
        }
    }

    /// The filter of a bulk request's body: `ids`, `states`, `rule`; at least one of them.
    static func filter(_ request: Request, _ requestContext: ServeRequestContext, _ context: ServeContext) async throws -> QueueFilter {
        var body = try await JSONBody(request, context: requestContext)
        let ids = try body.strings("ids") ?? []
        let states = try (body.strings("states") ?? []).map { text in
            guard let state = QueueState(rawValue: text) else {
                throw APIError.badRequest(
                    "'\(text.prefix(40))' is not a queue state; the states are \(QueueState.allCases.map(\.rawValue).joined(separator: ", "))",
                    field: "states")
            }
            return state
        }
        let rule = try body.string("rule")
        try body.finish()
        guard !ids.isEmpty || !states.isEmpty || rule != nil else {
            throw APIError.badRequest("name the entries: ids, states or rule (nothing would select the whole queue)", field: "ids")
        }
        let resolved: [String]
        do {
            resolved = try store(context).resolve(ids)
        } catch let error as QueueError {
            throw APIError(error.kind == .noEntry ? .notFound : .badRequest, error.description, field: "ids")
        }
        return QueueFilter(ids: resolved, states: states, rule: rule)
    }

    // MARK: JSON

    /// An entry without its error history and outcome (the list's rows).
    static func summary(_ entry: QueueEntry) -> JSONValue {
        guard case .object(let members) = entry.json else { return .null }
        return .object(members.filter { $0.0 != "errors" && $0.0 != "outcome" })
    }

    static func json(_ summary: QueueRunSummary, batchSize: Int) -> JSONValue {
        .object([
            ("batch_size", .integer(batchSize)), ("claimed", .integer(summary.claimed)), ("completed", .integer(summary.completed)),
            ("retrying", .integer(summary.retrying)), ("parked", .integer(summary.parked)), ("rescued", .integer(summary.rescued)),
            ("taken_over", .integer(summary.stale)), ("seconds", .seconds(summary.seconds)),
        ])
    }

    /// What a bulk change did: `{"retried": n, "left_alone": m}` (`cancelled`, `dropped`), as `queue retry --json` says.
    static func json(_ changed: QueueStore.Changed, _ change: Change?) -> JSONValue {
        let verb = change.map { $0 == .retry ? "retried" : "cancelled" } ?? "dropped"
        return .object([(verb, .integer(changed.changed)), ("left_alone", .integer(changed.leftAlone))])
    }

    let openAPI = QueueOpenAPI.text
}
