/// The OpenAPI paths and schemas of ``CoordinationsAPI``.
enum CoordinationsOpenAPI {
    static let text = """
        {"paths": {
          "/coordinations": {"get": {"operationId": "listCoordinations", "summary": "Coordinated deletions, newest first.",
            "parameters": [
              {"name": "state", "in": "query", "schema": {"$ref": "#/components/schemas/CoordinationState"}, "description": "Only coordinations in this state."},
              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
            "responses": {"200": {"description": "Coordinations.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CoordinationPage"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/coordinations/{id}": {
            "parameters": [{"$ref": "#/components/parameters/CoordinationID"}],
            "get": {"operationId": "getCoordination", "summary": "One coordination: who acked when, who is still awaited, the time left, its held actions.",
              "responses": {"200": {"description": "The coordination.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Coordination"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/coordinations/{id}/release": {
            "parameters": [{"$ref": "#/components/parameters/CoordinationID"}],
            "post": {"operationId": "releaseCoordination",
              "summary": "Release a parked (or waiting) coordination's held actions anyway, as `archiver coordination release`.",
              "responses": {"200": {"description": "The coordination now.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Coordination"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
                "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/coordinations/{id}/cancel": {
            "parameters": [{"$ref": "#/components/parameters/CoordinationID"}],
            "post": {"operationId": "cancelCoordination",
              "summary": "Cancel a parked (or waiting) coordination's held actions (nothing is deleted), as `archiver coordination cancel`.",
              "responses": {"200": {"description": "The coordination now.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Coordination"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
                "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/coordinations/{id}/acks": {
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1},
              "description": "The coordination's id (the coordination_id of its deletion.requested event)."}],
            "post": {"operationId": "ackCoordination",
              "summary": "A consumer's acknowledgement (or heartbeat), as `archiver ack`: idempotent; a late ack is recorded; the last awaited answer releases the held actions.",
              "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ack"}}}},
              "responses": {"200": {"description": "What the ack did.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AckResult"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"},
                "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"},
                "503": {"$ref": "#/components/responses/Unavailable"}}}}
        },
        "parameters": {
          "CoordinationID": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1},
            "description": "The coordination's id, or its first characters (at least 8) when they name one coordination."}
        },
        "schemas": {
          "CoordinationState": {"type": "string", "enum": ["waiting", "released", "timed-out", "completed", "parked"]},
          "ConsumerStatus": {"type": "string", "enum": ["waiting", "completed", "failed", "timed-out"]},
          "Ack": {"type": "object", "additionalProperties": false, "required": ["consumer"], "properties": {
            "consumer": {"type": "string", "minLength": 1, "description": "The consumer's name, as the rule's coordinate.consumers names it."},
            "status": {"type": "string", "enum": ["completed", "failed"], "default": "completed"},
            "detail": {"type": ["string", "null"], "maxLength": 2000, "description": "What the consumer has to say (kept with the ack)."},
            "heartbeat": {"type": "boolean", "default": false, "description": "Extend the consumer's wait by its timeout (never past the rule's cap) instead of answering."}}},
          "AckResult": {"type": "object", "required": ["coordination", "consumer", "outcome", "state", "deadline"], "properties": {
            "coordination": {"type": "string"}, "consumer": {"type": "string"},
            "outcome": {"type": "string", "enum": ["recorded", "duplicate", "late", "heartbeat"]},
            "state": {"$ref": "#/components/schemas/CoordinationState"},
            "deadline": {"type": ["string", "null"], "description": "The consumer's new deadline, after a heartbeat."}}},
          "CoordinationConsumer": {"type": "object",
            "required": ["name", "critical", "status", "deadline", "heartbeats", "acked_at", "detail", "late"], "properties": {
            "name": {"type": "string"}, "critical": {"type": "boolean"}, "status": {"$ref": "#/components/schemas/ConsumerStatus"},
            "deadline": {"type": "string"}, "heartbeats": {"type": "integer", "minimum": 0}, "acked_at": {"type": ["string", "null"]},
            "detail": {"type": ["string", "null"]},
            "late": {"type": ["object", "null"], "description": "An ack that came after the coordination was decided.",
              "properties": {"status": {"type": "string"}, "at": {"type": ["string", "null"]}}}}},
          "Coordination": {"type": "object",
            "required": ["id", "rule", "source", "archive_key", "state", "reason", "created_at", "cap_at", "next_deadline", "seconds_left",
              "released_at", "completed_at", "warnings", "awaited", "consumers", "actions"],
            "properties": {
              "id": {"type": "string"}, "rule": {"type": "string"}, "source": {"type": "string"}, "archive_key": {"type": "string"},
              "state": {"$ref": "#/components/schemas/CoordinationState"}, "reason": {"type": ["string", "null"]},
              "created_at": {"type": "string"}, "cap_at": {"type": "string", "description": "The absolute cap no heartbeat extends a wait past."},
              "next_deadline": {"type": ["string", "null"]}, "seconds_left": {"type": ["number", "null"], "minimum": 0},
              "released_at": {"type": ["string", "null"]}, "completed_at": {"type": ["string", "null"]},
              "warnings": {"type": "integer", "minimum": 0},
              "awaited": {"type": "array", "items": {"type": "string"}, "description": "The consumers still awaited."},
              "consumers": {"type": "array", "items": {"$ref": "#/components/schemas/CoordinationConsumer"}},
              "actions": {"type": "array", "description": "The held actions (one coordination only; empty in lists).", "items": {"type": "object",
                "required": ["id", "action", "state"], "properties": {"id": {"type": "string"}, "action": {"type": "string"}, "state": {"type": "string"}}}}}},
          "CoordinationPage": {"type": "object", "required": ["limit", "more", "coordinations"], "properties": {
            "limit": {"type": "integer", "minimum": 1}, "more": {"type": "boolean", "description": "More coordinations match than the limit."},
            "coordinations": {"type": "array", "items": {"$ref": "#/components/schemas/Coordination"}}}},
          "CoordinationStats": {"type": "object", "required": ["states", "consumers", "late_acks", "outbox"], "properties": {
            "states": {"type": "object", "required": ["waiting", "released", "timed-out", "completed", "parked"],
              "additionalProperties": {"type": "integer", "minimum": 0}},
            "consumers": {"type": "object", "description": "Expected consumers by status (acks by status).",
              "required": ["waiting", "completed", "failed", "timed-out"], "additionalProperties": {"type": "integer", "minimum": 0}},
            "late_acks": {"type": "integer", "minimum": 0},
            "outbox": {"type": "array", "description": "Each delivery target of the event outbox.", "items": {"type": "object",
              "required": ["target", "delivered", "backlog", "parked", "failed_attempts", "last_error", "disabled"], "properties": {
                "target": {"type": "string"}, "delivered": {"type": "integer", "minimum": 0}, "backlog": {"type": "integer", "minimum": 0},
                "parked": {"type": "integer", "minimum": 0, "description": "Events the target refused for good."},
                "failed_attempts": {"type": "integer", "minimum": 0, "description": "Failed delivery attempts in a row (0 once one goes through)."},
                "last_error": {"type": ["string", "null"]}, "disabled": {"type": "boolean"}}}}}}
        }}
        """
}
