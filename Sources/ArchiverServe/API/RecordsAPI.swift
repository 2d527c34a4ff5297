import ArchiverCore
import Foundation
import Hummingbird
import JSONToolkit

/// Archived records: find an item's deletions (by item key, optionally a month and a kind) and read one (its item
/// as DynamoDB JSON, as a restore would write it).
struct RecordsAPI: APIFeature {
    func addRoutes(to routes: APIRoutes) {
        routes.add(.get, "/records") { request, _, context in
            let query = try QueryParameters(request, allowed: ["item", "month", "kind", "limit"])
            let found = try await Self.find(
                context, item: try query.required("item", "the item key as `archiver ls` prints it (USER#123_PROFILE), * for any part"),
                month: query.string("month"), kind: try query.choice("kind", ["manual", "ttl"]).flatMap(DeletionKind.init(rawValue:)),
                limit: try query.int("limit", in: 1...1000, default: 100))
            return Response.json(.object([
                ("records", .array(found.records.map(Self.json))), ("truncated", .bool(found.truncated)),
            ]))
        }
        routes.add(.get, "/record") { request, _, context in
            let query = try QueryParameters(request, allowed: ["key"])
            let key = try query.required("key", "an archive key as /records lists it (2024/01/15/USER#123_PROFILE.103000.….manual.json.gz)")
            return Response.json(Self.json(try await Self.read(context, key: key)))
        }
    }

    var stats: StatsMember? { nil }

    // MARK: Operations (the page uses them too)

    /// An item's deletions, in the order they happened, at most `limit`.
    static func find(_ context: ServeContext, item: String, month: String?, kind: DeletionKind?, limit: Int) async throws
        -> (records: [ListedDeletion], truncated: Bool)
    {
        let filter = try ListingFilter(month: month, item: item, kind: kind)
        var records: [ListedDeletion] = []
        for try await page in listDeletions(in: context.parts.archive, filter: filter) {
            records.append(contentsOf: page)
            if records.count > limit { break }
        }
        let truncated = records.count > limit
        return (Array(records.sorted { ($0.deletedAt, $0.key) < ($1.deletedAt, $1.key) }.prefix(limit)), truncated)
    }

    /// One archived record, read and decoded.
    static func read(_ context: ServeContext, key: String) async throws -> (key: ArchiveKey, item: RestoreItem, size: Int) {
        guard let archiveKey = ArchiveKey(path: key) else {
            throw APIError.badRequest("'\(key.prefix(200))' is not an archive key (YYYY/MM/DD/<item key>.<HHMMSS>.<sequence>.<manual|ttl>.json.gz)", field: "key")
        }
        let bytes: [UInt8]
        do {
            bytes = try await context.parts.archive.get(key)
        } catch let error as ArchiveStoreError where error.isNotFound {
            throw APIError.notFound("no archived object '\(key)'", field: "key")
        }
        let limit = context.parts.tailOptions.maxRecordBytes
        guard bytes.count <= ArchiveRestorer.largestObject(forRecordBytes: limit) else {
            throw APIError.conflict("the object \(key) is \(bytes.count) bytes, more than any archived record of at most \(limit) bytes", field: "key")
        }
        return (archiveKey, try ArchiveRestorer.item(fromArchived: bytes, key: key, maxRecordBytes: limit), bytes.count)
    }

    // MARK: JSON

    static func json(_ record: ListedDeletion) -> JSONValue {
        .object([
            ("key", .string(record.key)), ("deleted_at", .string(record.deletedAt)), ("kind", .string(record.kind.rawValue)),
            ("item_key", .string(record.item)), ("size", .integer(record.size)),
        ])
    }

    static func json(_ record: (key: ArchiveKey, item: RestoreItem, size: Int)) -> JSONValue {
        .object([
            ("key", .string(record.key.path)), ("deleted_at", .string(record.key.time.description)), ("kind", .string(record.key.kind.rawValue)),
            ("item_key", .string(record.key.itemKey)), ("size", .integer(record.size)),
            ("keys", .object(record.item.keys.map { ($0.name, .object([($0.type.rawValue, .string($0.value))])) })),
            ("item", record.item.item.dynamoJSON),
        ])
    }

    let openAPI = """
        {"paths": {
          "/records": {"get": {"operationId": "findRecords", "summary": "An item's archived deletions, in the order they happened.",
            "parameters": [
              {"name": "item", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1},
                "description": "The item key as `archiver ls` prints it (USER#123_PROFILE); * matches any part."},
              {"name": "month", "in": "query", "schema": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                "description": "YYYY-MM; without it the whole archive is searched."},
              {"name": "kind", "in": "query", "schema": {"type": "string", "enum": ["manual", "ttl"]}},
              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
            "responses": {"200": {"description": "The deletions found.", "content": {"application/json": {"schema": {
                "type": "object", "required": ["records", "truncated"], "properties": {
                  "records": {"type": "array", "items": {"$ref": "#/components/schemas/ArchivedRecord"}},
                  "truncated": {"type": "boolean", "description": "More matched than `limit`."}}}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "502": {"$ref": "#/components/responses/Unavailable"}}}},
          "/record": {"get": {"operationId": "getRecord", "summary": "One archived record: the item a restore would write.",
            "parameters": [{"name": "key", "in": "query", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{4}/[0-9]{2}/[0-9]{2}/[^/]+[.](manual|ttl)[.]json[.]gz$"},
              "description": "The archive key, as /records lists it."}],
            "responses": {"200": {"description": "The record.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ArchivedItem"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
              "502": {"$ref": "#/components/responses/Unavailable"}}}}
        },
        "schemas": {
          "ArchivedRecord": {"type": "object", "required": ["key", "deleted_at", "kind", "item_key", "size"], "properties": {
            "key": {"type": "string"}, "deleted_at": {"type": "string"}, "kind": {"type": "string", "enum": ["manual", "ttl"]},
            "item_key": {"type": "string"}, "size": {"type": "integer", "minimum": 0}}},
          "ArchivedItem": {"allOf": [{"$ref": "#/components/schemas/ArchivedRecord"}, {"type": "object", "required": ["keys", "item"], "properties": {
            "keys": {"type": "object", "description": "The key attributes, as DynamoDB JSON."},
            "item": {"type": "object", "description": "The deleted item (OldImage), as DynamoDB JSON."}}}]}
        }}
        """
}
