import JSONToolkit

/// The OpenAPI 3.1 document of the HTTP API, served at `/api/v1/openapi.json`: the open endpoints, `/stats` (whose
/// members come from the features) and every feature's paths and schemas.
enum OpenAPIDocument {
    static func build(features: [any APIFeature]) -> JSONValue {
        var paths: [(String, JSONValue)] = []
        var schemas: [(String, JSONValue)] = []
        var parameters: [(String, JSONValue)] = []
        var requestBodies: [(String, JSONValue)] = []
        func merge(_ fragment: JSONValue, prefix: String) {
            for (path, item) in fragment["paths"]?.objectMembers ?? [] { paths.append((prefix + path, item)) }
            for (name, schema) in fragment["schemas"]?.objectMembers ?? [] { schemas.append((name, schema)) }
            for (name, parameter) in fragment["parameters"]?.objectMembers ?? [] { parameters.append((name, parameter)) }
            for (name, body) in fragment["requestBodies"]?.objectMembers ?? [] { requestBodies.append((name, body)) }
        }
        merge(.literal(base, "the open endpoints"), prefix: "")
        merge(.literal(statsPath, "the stats endpoint"), prefix: APIRoutes.prefix)
        for feature in features { merge(.literal(feature.openAPI, "\(type(of: feature))"), prefix: APIRoutes.prefix) }
        let members = features.compactMap(\.stats)
        schemas.append(("Stats", .object([
            ("type", .string("object")),
            ("required", .array((["generated_at", "uptime_seconds"] + members.map(\.name)).map(JSONValue.string))),
            ("properties", .object([
                ("generated_at", .object([("type", .string("string")), ("format", .string("date-time"))])),
                ("uptime_seconds", .object([("type", .string("number")), ("minimum", .number("0"))])),
            ] + members.map { ($0.name, .object([("$ref", .string("#/components/schemas/\($0.schema)"))])) })),
        ])))
        schemas.append(("Error", .literal(errorSchema, "the error schema")))
        return .object([
            ("openapi", .string("3.1.0")),
            ("info", .object([
                ("title", .string("archiver serve")),
                ("version", .string("1")),
                ("description", .string(
                    "The HTTP API of `archiver serve`: the sources it tails, dead letters, archived records and restores "
                        + "(and, as they are configured, the deletion queue, coordinations and erasures). Every path under "
                        + "/api/v1 needs `Authorization: Bearer <token>`; /healthz, /readyz and /metrics are open. Errors are "
                        + "`{\"error\": {\"message\": …, \"field\": …}}`, naming the parameter or body member that is wrong.")),
            ])),
            ("security", .array([.object([("bearer", .array([]))])])),
            ("paths", .object(paths)),
            ("components", .object([
                ("securitySchemes", .object([("bearer", .object([("type", .string("http")), ("scheme", .string("bearer"))]))])),
                ("responses", .literal(responses, "the shared responses")),
                ("parameters", .object(parameters)),
                ("requestBodies", .object(requestBodies)),
                ("schemas", .object(schemas)),
            ])),
        ])
    }

    static let errorSchema = """
        {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["message"],
          "properties": {"message": {"type": "string"}, "field": {"type": "string"}}}}}
        """

    /// Responses every operation may give.
    static let responses = """
        {
          "BadRequest": {"description": "A parameter or body member is wrong; `field` names it.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Unauthorized": {"description": "No bearer token, or the wrong one.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "NotFound": {"description": "Nothing there.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Conflict": {"description": "It cannot be done as things stand (a damaged entry, an unreadable object).",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "TooLarge": {"description": "The body is larger than 1 MiB.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Unavailable": {"description": "A store or target the request needs cannot be reached now; try again.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
        """

    static let base = """
        {"paths": {
          "/healthz": {"get": {"operationId": "healthz", "summary": "The process is alive.", "security": [],
            "responses": {"200": {"description": "Alive.", "content": {"application/json": {"schema": {
              "type": "object", "required": ["status"], "properties": {"status": {"const": "alive"}}}}}}}}},
          "/readyz": {"get": {"operationId": "readyz", "summary": "Every tail is running and the state folder takes writes.", "security": [],
            "responses": {
              "200": {"description": "Ready.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}},
              "503": {"description": "Not ready (a tail is restarting, the state folder cannot be written, or the service is stopping).",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Readiness"}}}}}}},
          "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics (text format 0.0.4).", "security": [],
            "responses": {"200": {"description": "The metrics.", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
          "/api/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "This document.",
            "responses": {"200": {"description": "The OpenAPI document.", "content": {"application/json": {"schema": {"type": "object"}}}},
              "401": {"$ref": "#/components/responses/Unauthorized"}}}}
        },
        "schemas": {
          "Readiness": {"type": "object", "required": ["ready", "state_writable", "stopping", "tails", "problems"], "properties": {
            "ready": {"type": "boolean"}, "state_writable": {"type": "boolean"}, "stopping": {"type": "boolean"},
            "tails": {"type": "array", "items": {"type": "object", "required": ["source", "state"], "properties": {
              "source": {"type": "string"}, "state": {"$ref": "#/components/schemas/TailState"}}}},
            "problems": {"type": "array", "items": {"type": "string"}}}}
        }}
        """

    static let statsPath = """
        {"paths": {"/stats": {"get": {"operationId": "stats",
          "summary": "Everything at a glance: each feature's counts (sources, dead letters, and the queue, coordinations and erasures where configured).",
          "responses": {"200": {"description": "The statistics.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Stats"}}}},
            "401": {"$ref": "#/components/responses/Unauthorized"}}}}}}
        """
}
