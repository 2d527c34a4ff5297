import ArchiverCore
import Foundation
import Logging
import Hummingbird
import JSONToolkit

/// Restore one archived record into a configured target: a dry run shows the item that would be written and whether
/// the target already holds one with its key; then the same request with `dry_run: false` writes it. Never replaces
/// an item unless `overwrite` is asked for.
struct RestoreAPI: APIFeature {
    func addRoutes(to routes: APIRoutes) {
        routes.add(.get, "/restore-targets") { request, _, context in
            _ = try QueryParameters(request, allowed: [])
            return Response.json(.object([("targets", .array(context.parts.restoreTargets.map { target in
                .object([("name", .string(target.name)), ("spec", .string(target.spec))])
            }))]))
        }
        routes.add(.post, "/restore") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            var body = try await JSONBody(request, context: requestContext)
            let key = try body.requiredString("key", "the archive key of the record to restore")
            let target = try body.requiredString("target", "the name of a restore target (GET /api/v1/restore-targets lists them)")
            let dryRun = try body.bool("dry_run", default: true)
            let overwrite = try body.bool("overwrite", default: false)
            try body.finish()
            let result = try await Self.restore(context, key: key, target: target, dryRun: dryRun, overwrite: overwrite)
            return Response.json(Self.json(result))
        }
    }

    var stats: StatsMember? { nil }

    struct Result {
        var key: String
        var target: String
        var dryRun: Bool
        var overwrite: Bool
        var outcome: RestoreOutcome
        var item: RestoreItem
    }

    /// Restores (or, with `dryRun`, checks) one record.
    static func restore(_ context: ServeContext, key: String, target name: String, dryRun: Bool, overwrite: Bool) async throws -> Result {
        let record = try await RecordsAPI.read(context, key: key)
        let (configured, target) = try context.restoreTarget(named: name)
        let outcome = try await target.restore([record.item], overwrite: overwrite, dryRun: dryRun)[0]
        if !dryRun {
            context.logger.notice("record restored", metadata: [
                "restore.target": "\(configured.name)", "restore.outcome": "\(Self.word(outcome))", "restore.overwrite": "\(overwrite)",
            ])
        }
        return Result(key: key, target: configured.name, dryRun: dryRun, overwrite: overwrite, outcome: outcome, item: record.item)
    }

    static func word(_ outcome: RestoreOutcome) -> String {
        switch outcome {
        case .restored: "restored"
        case .exists: "exists"
        case .failed: "failed"
        }
    }

    static func message(_ outcome: RestoreOutcome) -> String? {
        switch outcome {
        case .restored: nil
        case .exists(let message), .failed(let message): message
        }
    }

    static func json(_ result: Result) -> JSONValue {
        .object([
            ("key", .string(result.key)), ("target", .string(result.target)), ("dry_run", .bool(result.dryRun)),
            ("overwrite", .bool(result.overwrite)), ("outcome", .string(word(result.outcome))),
            ("message", message(result.outcome).map(JSONValue.string) ?? .null),
            ("item", result.item.item.dynamoJSON),
        ])
    }

    let openAPI = """
        {"paths": {
          "/restore-targets": {"get": {"operationId": "listRestoreTargets", "summary": "The targets restores may go to (serve.restore-targets).",
            "responses": {"200": {"description": "The targets.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["targets"], "properties": {"targets": {"type": "array", "items": {
                  "type": "object", "required": ["name", "spec"], "properties": {"name": {"type": "string"}, "spec": {"type": "string"}}}}}}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}}}},
          "/restore": {"post": {"operationId": "restoreRecord",
            "summary": "Restore one archived record: first as a dry run (the default), which shows the item and whether one with its key exists; then with dry_run false.",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
              "required": ["key", "target"], "properties": {
                "key": {"type": "string", "pattern": "^[0-9]{4}/[0-9]{2}/[0-9]{2}/[^/]+[.](manual|ttl)[.]json[.]gz$", "description": "The archive key."},
                "target": {"type": "string", "minLength": 1, "description": "A restore target's name."},
                "dry_run": {"type": "boolean", "default": true},
                "overwrite": {"type": "boolean", "default": false, "description": "Replace an item with the same key."}}}}}},
            "responses": {"200": {"description": "What was (or would be) done.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RestoreResult"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
              "413": {"$ref": "#/components/responses/TooLarge"}, "502": {"$ref": "#/components/responses/Unavailable"}}}}
        },
        "schemas": {
          "RestoreResult": {"type": "object", "required": ["key", "target", "dry_run", "overwrite", "outcome", "message", "item"], "properties": {
            "key": {"type": "string"}, "target": {"type": "string"}, "dry_run": {"type": "boolean"}, "overwrite": {"type": "boolean"},
            "outcome": {"type": "string", "enum": ["restored", "exists", "failed"],
              "description": "restored: written (or, in a dry run, would be); exists: an item with its key is there (pass overwrite); failed: see message."},
            "message": {"type": ["string", "null"]},
            "item": {"type": "object", "description": "The item written (or to be written), as DynamoDB JSON."}}}
        }}
        """
}
