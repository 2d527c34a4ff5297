import ArchiverCore
import Foundation
import Logging
import Hummingbird
import JSONToolkit

/// The dead-letter folder: list (by source and code, a page at a time), show one (its raw record as text and base64),
/// retry one, some or all, drop one. Also the `dead_letters` member of `/stats`.
struct DeadLettersAPI: APIFeature {
    func addRoutes(to routes: APIRoutes) {
        routes.add(.get, "/dead-letters") { request, _, context in
            let query = try QueryParameters(request, allowed: ["source", "code", "limit", "offset"])
            let page = try await Self.list(
                context, source: query.string("source"), code: query.string("code"),
                limit: try query.int("limit", in: 1...1000, default: 100), offset: try query.int("offset", in: 0...Int(Int32.max), default: 0))
            return Response.json(.object([
                ("total", .integer(page.total)), ("offset", .integer(page.offset)), ("limit", .integer(page.limit)),
                ("entries", .array(page.entries.map { Self.summary($0) })),
                ("damaged", .array(page.damaged.map(Self.damaged))),
            ]))
        }
        routes.add(.get, "/dead-letters/{id}") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            let entry = try await context.deadLetters.entry(id: try requestContext.pathParameter("id"))
            return Response.json(Self.detail(entry))
        }
        routes.add(.post, "/dead-letters/{id}/retry") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            let id = try requestContext.pathParameter("id")
            _ = try await context.deadLetters.entry(id: id)
            return Response.json(Self.json(try await Self.retry(context, ids: [id])))
        }
        routes.add(.post, "/dead-letters/retry") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            var body = try await JSONBody(request, context: requestContext, optional: true)
            let ids = try body.strings("ids") ?? []
            try body.finish()
            for id in ids {
                do {
                    _ = try await context.deadLetters.entry(id: id)
                } catch let error as StateError {
                    throw APIError(error.kind == .noDeadLetter ? .notFound : .badRequest, error.description, field: "ids")
                }
            }
            return Response.json(Self.json(try await Self.retry(context, ids: ids)))
        }
        routes.add(.delete, "/dead-letters/{id}") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            let id = try requestContext.pathParameter("id")
            try await Self.drop(context, id: id)
            return Response.json(.object([("dropped", .string(id))]))
        }
    }

    var stats: StatsMember? {
        StatsMember(name: "dead_letters", schema: "DeadLetterStats") { context in
            let total = try Self.count(context)
            let byCode = try await codes.counts(context, total: total)
            return .object([
                ("total", .integer(total)),
                ("by_code", .object(byCode.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.integer($0.value)) })),
            ])
        }
    }

    /// Counts by code, read from the entries at most every few seconds (reading every entry is the slow part).
    private let codes = CodeCounts()

    // MARK: Operations (the page uses them too)

    struct Page {
        var total: Int
        var offset: Int
        var limit: Int
        var entries: [DeadLetter]
        var damaged: [DamagedDeadLetter]
    }

    static func count(_ context: ServeContext) throws -> Int {
        try context.deadLetters.count()
    }

    /// Entries oldest first, filtered by source and code, `limit` from `offset`.
    static func list(_ context: ServeContext, source: String?, code: String?, limit: Int, offset: Int) async throws -> Page {
        let (entries, damaged) = try await context.deadLetters.scan()
        let matching = entries.filter { (source == nil || $0.source == source) && (code == nil || $0.code == code) }
        let slice = matching.dropFirst(offset).prefix(limit)
        return Page(total: matching.count, offset: offset, limit: limit, entries: Array(slice), damaged: damaged)
    }

    /// Sends entries through the pipeline again (all when `ids` is empty).
    static func retry(_ context: ServeContext, ids: [String]) async throws -> RetrySummary {
        var retry = DeadLetterRetry(folder: context.deadLetters, store: context.parts.archive)
        retry.gzipLevel = context.parts.tailOptions.gzipLevel
        retry.catalogue = context.checkpoints
        let summary = try await retry.run(ids: ids)
        context.logger.info("dead letters retried", metadata: [
            "dlq.tried": "\(summary.tried)", "dlq.archived": "\(summary.archived)", "dlq.still_failing": "\(summary.stillFailing)",
        ])
        return summary
    }

    /// Removes an entry (whole or damaged).
    static func drop(_ context: ServeContext, id: String) async throws {
        guard try await context.deadLetters.contains(id: id) else { throw StateError.noDeadLetter(id, in: context.deadLetters.path) }
        try await context.deadLetters.remove(ids: [id])
        context.logger.info("dead letter dropped", metadata: ["dlq.id": "\(id)"])
    }

    // MARK: JSON

    static func summary(_ entry: DeadLetter) -> JSONValue {
        .object([
            ("id", .string(entry.id)), ("source", .string(entry.source)), ("partition", .string(entry.partition)),
            ("position", .string(entry.position)), ("reason", .string(entry.reason)), ("code", .string(entry.code)),
            ("attempts", .integer(entry.attempts)), ("first_failed_at", .string(entry.firstFailedAt)),
            ("last_failed_at", .string(entry.lastFailedAt)), ("record_bytes", .integer(entry.recordBytes ?? Int64(entry.raw.count))),
            ("cut", .bool(entry.isCut)),
        ])
    }

    static func detail(_ entry: DeadLetter) -> JSONValue {
        guard case .object(var members) = summary(entry) else { return .null }
        members.append(("file", entry.file.map { file in
            .object([("path", .string(file.path)), ("device", .integer(file.device)), ("inode", .integer(file.inode))])
        } ?? .null))
        members.append(("record_sha256", entry.recordSHA256.map(JSONValue.string) ?? .null))
        members.append(("raw_base64", .string(Data(entry.raw).base64EncodedString())))
        members.append(("raw_text", .string(String(decoding: entry.raw, as: UTF8.self))))
        return .object(members)
    }

    static func damaged(_ damaged: DamagedDeadLetter) -> JSONValue {
        .object([("id", .string(damaged.id)), ("problem", .string(damaged.problem))])
    }

    static func json(_ summary: RetrySummary) -> JSONValue {
        .object([
            ("tried", .integer(summary.tried)), ("archived", .integer(summary.archived)), ("passed_over", .integer(summary.passedOver)),
            ("still_failing", .integer(summary.stillFailing)), ("damaged", .array(summary.damaged.map(damaged))),
        ])
    }

    let openAPI = """
        {"paths": {
          "/dead-letters": {"get": {"operationId": "listDeadLetters", "summary": "Dead letters, oldest first.",
            "parameters": [
              {"name": "source", "in": "query", "schema": {"type": "string"}, "description": "Only this source's (its id)."},
              {"name": "code", "in": "query", "schema": {"type": "string"}, "description": "Only this kind of problem (malformed-json, no-old-image, …)."},
              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
              {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 2147483647, "default": 0}}],
            "responses": {"200": {"description": "A page of entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeadLetterPage"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/dead-letters/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]+$"}, "description": "The entry's id (hex)."}],
            "get": {"operationId": "getDeadLetter", "summary": "One dead letter, with its raw record.",
              "responses": {"200": {"description": "The entry.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DeadLetterDetail"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}}},
            "delete": {"operationId": "dropDeadLetter", "summary": "Drop a dead letter (its record is not archived).",
              "responses": {"200": {"description": "Dropped.", "content": {"application/json": {"schema": {
                  "type": "object", "required": ["dropped"], "properties": {"dropped": {"type": "string"}}}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/dead-letters/{id}/retry": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]+$"}}],
            "post": {"operationId": "retryDeadLetter", "summary": "Send one dead letter through the pipeline again.",
              "responses": {"200": {"description": "What the retry did.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RetryResult"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
                "502": {"$ref": "#/components/responses/Unavailable"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/dead-letters/retry": {"post": {"operationId": "retryDeadLetters", "summary": "Retry the dead letters named, or all of them.",
            "requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false,
              "properties": {"ids": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]+$"}, "description": "Entries to retry; all when absent or empty."}}}}}},
            "responses": {"200": {"description": "What the retry did.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RetryResult"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
              "413": {"$ref": "#/components/responses/TooLarge"},
              "502": {"$ref": "#/components/responses/Unavailable"}, "503": {"$ref": "#/components/responses/Unavailable"}}}}
        },
        "schemas": {
          "DeadLetterStats": {"type": "object", "required": ["total", "by_code"], "properties": {
            "total": {"type": "integer", "minimum": 0},
            "by_code": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}}}},
          "DeadLetter": {"type": "object",
            "required": ["id", "source", "partition", "position", "reason", "code", "attempts", "first_failed_at", "last_failed_at", "record_bytes", "cut"],
            "properties": {"id": {"type": "string"}, "source": {"type": "string"}, "partition": {"type": "string"}, "position": {"type": "string"},
              "reason": {"type": "string"}, "code": {"type": "string"}, "attempts": {"type": "integer", "minimum": 1},
              "first_failed_at": {"type": "string"}, "last_failed_at": {"type": "string"},
              "record_bytes": {"type": "integer", "minimum": 0}, "cut": {"type": "boolean", "description": "Only the record's first KiB was kept (too-large)."}}},
          "DeadLetterDetail": {"allOf": [{"$ref": "#/components/schemas/DeadLetter"}, {"type": "object",
            "required": ["file", "record_sha256", "raw_base64", "raw_text"],
            "properties": {
              "file": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["path", "device", "inode"],
                "properties": {"path": {"type": "string"}, "device": {"type": "integer"}, "inode": {"type": "integer"}}}]},
              "record_sha256": {"type": ["string", "null"]},
              "raw_base64": {"type": "string", "contentEncoding": "base64"},
              "raw_text": {"type": "string", "description": "The raw bytes as UTF-8 (invalid sequences replaced)."}}}]},
          "DamagedDeadLetter": {"type": "object", "required": ["id", "problem"], "properties": {"id": {"type": "string"}, "problem": {"type": "string"}}},
          "DeadLetterPage": {"type": "object", "required": ["total", "offset", "limit", "entries", "damaged"], "properties": {
            "total": {"type": "integer", "minimum": 0}, "offset": {"type": "integer", "minimum": 0}, "limit": {"type": "integer", "minimum": 1},
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/DeadLetter"}},
            "damaged": {"type": "array", "items": {"$ref": "#/components/schemas/DamagedDeadLetter"}}}},
          "RetryResult": {"type": "object", "required": ["tried", "archived", "passed_over", "still_failing", "damaged"], "properties": {
            "tried": {"type": "integer", "minimum": 0}, "archived": {"type": "integer", "minimum": 0}, "passed_over": {"type": "integer", "minimum": 0},
            "still_failing": {"type": "integer", "minimum": 0}, "damaged": {"type": "array", "items": {"$ref": "#/components/schemas/DamagedDeadLetter"}}}}
        }}
        """
}

/// Dead letters by code, recounted when the folder's entry count changed or a few seconds passed.
private final class CodeCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var cached: [String: (total: Int, at: Date, counts: [String: Int])] = [:]
    static let maximumAge: Double = 5

    func counts(_ context: ServeContext, total: Int) async throws -> [String: Int] {
        let folder = context.deadLetters.path
        if let entry = lock.withLock({ cached[folder] }), entry.total == total, Date().timeIntervalSince(entry.at) < Self.maximumAge {
            return entry.counts
        }
        var counts: [String: Int] = [:]
        for entry in try await context.deadLetters.scan().entries { counts[entry.code, default: 0] += 1 }
        lock.withLock { cached[folder] = (total, Date(), counts) }
        return counts
    }
}
