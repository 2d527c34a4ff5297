import ArchiverCore
import Foundation
import Hummingbird
import JSONToolkit

/// `GET /api/v1/sources`: each configured source's tail: state, position, lag, rate, backlog, counts, restarts and
/// the last deletions it archived. Also the `sources` member of `/stats`.
struct SourcesAPI: APIFeature {
    func addRoutes(to routes: APIRoutes) {
        routes.add(.get, "/sources") { request, _, context in
            _ = try QueryParameters(request, allowed: [])
            return Response.json(.object([("sources", try await Self.sources(context))]))
        }
    }

    var stats: StatsMember? {
        StatsMember(name: "sources", schema: "SourceList") { context in try await Self.sources(context) }
    }

    static func sources(_ context: ServeContext) async throws -> JSONValue {
        let now = Date()
        return .array(await context.tailSnapshots(now: now).map { json($0, now: now) })
    }

    static func json(_ tail: TailSnapshot, now: Date) -> JSONValue {
        let totals = tail.totals
        return .object([
            ("name", .string(tail.name)),
            ("id", tail.sourceID.map(JSONValue.string) ?? .null),
            ("state", .string(tail.state.rawValue)),
            ("position", tail.position.map(JSONValue.string) ?? .null),
            ("checkpoint_age_seconds", .seconds(tail.checkpointAge(now: now))),
            ("lag_seconds", .seconds(tail.lagSeconds)),
            ("records_per_second", .seconds(tail.recordsPerSecond)),
            ("backlog_bytes", .int(tail.backlog?.bytes)),
            ("backlog_records", .int(tail.backlog?.records)),
            ("totals", .object([
                ("read", .integer(totals.read)), ("archived", .integer(totals.archived)),
                ("archived_manual", .integer(totals.archivedManual)), ("archived_ttl", .integer(totals.archivedTTL)),
                ("passed_over", .integer(totals.passedOver)), ("dead_lettered", .integer(totals.deadLettered)),
                ("bytes", .integer(totals.bytes)), ("archived_bytes", .integer(totals.archivedBytes)),
            ])),
            ("restarts", .integer(tail.restarts)),
            ("last_error", tail.lastError.map(JSONValue.string) ?? .null),
            ("last_error_at", .date(tail.lastErrorAt)),
            ("next_attempt_at", .date(tail.nextAttemptAt)),
            ("recent", .array(tail.recent.map { recent in
                .object([("key", .string(recent.key)), ("kind", .string(recent.kind.rawValue)), ("deleted_at", .string(recent.deletedAt))])
            })),
        ])
    }

    let openAPI = """
        {"paths": {"/sources": {"get": {"operationId": "listSources", "summary": "Each configured source's tail.",
          "responses": {"200": {"description": "The sources, in the configuration's order.", "content": {"application/json": {"schema": {
              "type": "object", "required": ["sources"], "properties": {"sources": {"$ref": "#/components/schemas/SourceList"}}}}}},
            "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}}}}},
        "schemas": {
          "TailState": {"type": "string", "enum": ["starting", "running", "restarting", "stopping", "stopped"]},
          "SourceList": {"type": "array", "items": {"$ref": "#/components/schemas/Source"}},
          "Source": {"type": "object",
            "required": ["name", "id", "state", "position", "checkpoint_age_seconds", "lag_seconds", "records_per_second", "backlog_bytes",
                         "backlog_records", "totals", "restarts", "last_error", "last_error_at", "next_attempt_at", "recent"],
            "properties": {
              "name": {"type": "string", "description": "As configured."},
              "id": {"type": ["string", "null"], "description": "The source's id (its checkpoints are kept under it), once opened."},
              "state": {"$ref": "#/components/schemas/TailState"},
              "position": {"type": ["string", "null"], "description": "Where reading stands, in words."},
              "checkpoint_age_seconds": {"type": ["number", "null"], "minimum": 0},
              "lag_seconds": {"type": ["number", "null"], "minimum": 0,
                "description": "For the last deletion archived: seconds between its deletion and its archiving."},
              "records_per_second": {"type": "number", "minimum": 0, "description": "Records read per second over the last minute."},
              "backlog_bytes": {"type": ["integer", "null"], "minimum": 0, "description": "A file source's bytes not read yet."},
              "backlog_records": {"type": ["integer", "null"], "minimum": 0, "description": "A change table's records not read yet."},
              "totals": {"type": "object",
                "required": ["read", "archived", "archived_manual", "archived_ttl", "passed_over", "dead_lettered", "bytes", "archived_bytes"],
                "properties": {"read": {"type": "integer"}, "archived": {"type": "integer"}, "archived_manual": {"type": "integer"},
                  "archived_ttl": {"type": "integer"}, "passed_over": {"type": "integer"}, "dead_lettered": {"type": "integer"},
                  "bytes": {"type": "integer"}, "archived_bytes": {"type": "integer"}}},
              "restarts": {"type": "integer", "minimum": 0},
              "last_error": {"type": ["string", "null"]},
              "last_error_at": {"type": ["string", "null"], "format": "date-time"},
              "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
              "recent": {"type": "array", "items": {"$ref": "#/components/schemas/RecentDeletion"}}}},
          "RecentDeletion": {"type": "object", "required": ["key", "kind", "deleted_at"], "properties": {
            "key": {"type": "string"}, "kind": {"type": "string", "enum": ["manual", "ttl"]}, "deleted_at": {"type": "string"}}}
        }}
        """
}
