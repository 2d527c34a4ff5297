import ArchiverCore
import Foundation
import Hummingbird
import JSONToolkit

/// The endpoints outside the features: `/healthz`, `/readyz`, `/metrics`, the OpenAPI document and `/api/v1/stats`.
enum OpenEndpoints {
    static func add(to router: Router<ServeRequestContext>, routes: APIRoutes, context: ServeContext, features: [any APIFeature]) {
        router.get("/healthz") { _, _ in
            Response.json(.object([("status", .string("alive"))]))
        }
        router.get("/readyz") { _, _ in
            let (ready, body) = await readiness(context)
            return Response.json(body, status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            await refreshGauges(context)
            return Response.text(PrometheusExport.text(), contentType: PrometheusExport.contentType)
        }
        let document = OpenAPIDocument.build(features: features).serialized
        routes.add(.get, "/openapi.json") { _, _, _ in
            Response.text(document + "\n", contentType: "application/json; charset=utf-8")
        }
        let members = features.compactMap(\.stats)
        routes.add(.get, "/stats") { request, _, context in
            _ = try QueryParameters(request, allowed: [])
            var body: [(String, JSONValue)] = [
                ("generated_at", .date(Date())),
                ("uptime_seconds", .seconds(Date().timeIntervalSince(context.startedAt))),
            ]
            for member in members { body.append((member.name, try await member.compute(context))) }
            return Response.json(.object(body))
        }
    }

    /// Ready: every tail running, the state folder writable, not stopping.
    static func readiness(_ context: ServeContext) async -> (Bool, JSONValue) {
        var problems: [String] = []
        let writable = context.stateIsWritable()
        if !writable { problems.append("the state folder \(context.parts.stateFolder) cannot be written") }
        if context.isStopping { problems.append("the service is stopping") }
        var tails: [JSONValue] = []
        for tail in context.tails {
            let snapshot = await tail.snapshot()
            tails.append(.object([("source", .string(snapshot.name)), ("state", .string(snapshot.state.rawValue))]))
            if snapshot.state != .running { problems.append("the tail of \(snapshot.name) is \(snapshot.state.rawValue)") }
        }
        let ready = problems.isEmpty
        return (ready, .object([
            ("ready", .bool(ready)), ("state_writable", .bool(writable)), ("stopping", .bool(context.isStopping)),
            ("tails", .array(tails)), ("problems", .array(problems.map(JSONValue.string))),
        ]))
    }

    /// Sets the gauges that are read rather than counted (checkpoint ages, backlogs, dead letters, queue entries,
    /// coordinations, outbox targets, erasure jobs) before a
    /// scrape.
    static func refreshGauges(_ context: ServeContext) async {
        let now = Date()
        for snapshot in await context.tailSnapshots(now: now) {
            guard let id = snapshot.sourceID else { continue }
            ScrapeGauges.update(source: id, checkpointAge: snapshot.checkpointAge(now: now), backlog: snapshot.backlog)
        }
        if let count = try? DeadLettersAPI.count(context) { ScrapeGauges.deadLetters(count) }
        MetricsEndpoint.refreshQueueGauges(QueueAPI.store(context))
        FeatureGauges.refresh(context)
    }
}
