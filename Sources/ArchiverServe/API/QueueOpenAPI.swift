/// The OpenAPI paths and schemas of ``QueueAPI``.
enum QueueOpenAPI {
    static let text = """
        {"paths": {
          "/queue/stats": {"get": {"operationId": "queueStats",
            "summary": "The deletion queue at a glance: entries per state, the oldest waiting entry's age, attempts spread, errors by code.",
            "responses": {"200": {"description": "The statistics.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueStats"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/queue/run": {"post": {"operationId": "runQueue",
            "summary": "Run one batch of due entries now (as a worker's turn: rescue passed leases, stage, claim, carry out, record).",
            "parameters": [{"name": "batch_size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 10000},
              "description": "Entries claimed at most (default: queue.batch-size of the configuration)."}],
            "responses": {"200": {"description": "What the batch did.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueRunResult"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "409": {"$ref": "#/components/responses/Conflict"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/queue/entries": {"get": {"operationId": "listQueueEntries", "summary": "Queue entries, oldest first.",
            "parameters": [
              {"name": "state", "in": "query", "schema": {"$ref": "#/components/schemas/QueueState"}, "description": "Only entries in this state."},
              {"name": "rule", "in": "query", "schema": {"type": "string"}, "description": "Only entries of this rule."},
              {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
            "responses": {"200": {"description": "Entries.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueEntryPage"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/queue/entries/{id}": {
            "parameters": [{"$ref": "#/components/parameters/QueueEntryID"}],
            "get": {"operationId": "getQueueEntry", "summary": "One entry, with its error history and outcome.",
              "responses": {"200": {"description": "The entry.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueEntry"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "503": {"$ref": "#/components/responses/Unavailable"}}},
            "delete": {"operationId": "dropQueueEntry", "summary": "Drop an entry for good (not an executing one).",
              "responses": {"200": {"description": "Dropped.", "content": {"application/json": {"schema": {
                  "type": "object", "required": ["dropped"], "properties": {"dropped": {"type": "string"}}}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
                "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/queue/entries/{id}/retry": {
            "parameters": [{"$ref": "#/components/parameters/QueueEntryID"}],
            "post": {"operationId": "retryQueueEntry",
              "summary": "Make a parked, retrying, scheduled or cancelled entry available now (one that used up its attempts gets one more).",
              "responses": {"200": {"description": "The entry now.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueEntry"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
                "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/queue/entries/{id}/cancel": {
            "parameters": [{"$ref": "#/components/parameters/QueueEntryID"}],
            "post": {"operationId": "cancelQueueEntry", "summary": "Cancel a waiting or parked entry: it never runs.",
              "responses": {"200": {"description": "The entry now.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueEntry"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
                "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/queue/entries/retry": {"post": {"operationId": "retryQueueEntries",
            "summary": "Retry every entry the filter selects (as `archiver queue retry --parked`); completed and executing ones are left alone.",
            "requestBody": {"$ref": "#/components/requestBodies/QueueFilter"},
            "responses": {"200": {"description": "How many.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueRetried"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"}, "413": {"$ref": "#/components/responses/TooLarge"},
              "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/queue/entries/cancel": {"post": {"operationId": "cancelQueueEntries",
            "summary": "Cancel every entry the filter selects; completed, cancelled and executing ones are left alone.",
            "requestBody": {"$ref": "#/components/requestBodies/QueueFilter"},
            "responses": {"200": {"description": "How many.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueCancelled"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"}, "413": {"$ref": "#/components/responses/TooLarge"},
              "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/queue/entries/drop": {"post": {"operationId": "dropQueueEntries",
            "summary": "Drop every entry the filter selects for good; executing ones are left alone.",
            "requestBody": {"$ref": "#/components/requestBodies/QueueFilter"},
            "responses": {"200": {"description": "How many.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueDropped"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
              "404": {"$ref": "#/components/responses/NotFound"}, "413": {"$ref": "#/components/responses/TooLarge"},
              "503": {"$ref": "#/components/responses/Unavailable"}}}}
        },
        "parameters": {
          "QueueEntryID": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{4,64}$"},
            "description": "The entry's id, or its first characters (at least 4 hex digits) when they name one entry."}
        },
        "requestBodies": {
          "QueueFilter": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueFilter"}}}}
        },
        "schemas": {
          "QueueState": {"type": "string", "enum": ["scheduled", "available", "executing", "retryable", "completed", "parked", "cancelled", "held"]},
          "QueueStats": {"type": "object",
            "required": ["total", "states", "oldest_waiting_at", "oldest_waiting_age_seconds", "next_due_at", "attempts", "errors"],
            "properties": {
              "total": {"type": "integer", "minimum": 0},
              "states": {"type": "object", "required": ["scheduled", "available", "executing", "retryable", "completed", "parked", "cancelled", "held"],
                "additionalProperties": {"type": "integer", "minimum": 0}},
              "oldest_waiting_at": {"type": ["string", "null"], "description": "When the oldest entry still waiting to run was made."},
              "oldest_waiting_age_seconds": {"type": ["number", "null"], "minimum": 0},
              "next_due_at": {"type": ["string", "null"], "description": "When the next waiting entry is due."},
              "attempts": {"type": "object", "description": "Entries by attempts made.", "additionalProperties": {"type": "integer", "minimum": 0}},
              "errors": {"type": "object", "description": "Retrying and parked entries by their last error's code.",
                "additionalProperties": {"type": "integer", "minimum": 0}}}},
          "QueueRunResult": {"type": "object", "required": ["batch_size", "claimed", "completed", "retrying", "parked", "rescued", "taken_over", "seconds"],
            "properties": {
              "batch_size": {"type": "integer", "minimum": 1}, "claimed": {"type": "integer", "minimum": 0},
              "completed": {"type": "integer", "minimum": 0}, "retrying": {"type": "integer", "minimum": 0}, "parked": {"type": "integer", "minimum": 0},
              "rescued": {"type": "integer", "minimum": 0, "description": "Entries whose worker's lease had passed, counted as failed attempts."},
              "taken_over": {"type": "integer", "minimum": 0, "description": "Results not recorded: the entry's lease passed while it ran."},
              "seconds": {"type": "number", "minimum": 0}}},
          "QueueEntrySummary": {"type": "object",
            "required": ["id", "rule", "action_index", "action", "root", "target", "place", "source", "archive_key", "state", "attempts",
              "max_attempts", "next_attempt_at", "leased_until", "lease_owner", "last_error", "last_error_code", "created_at", "completed_at", "hold"],
            "properties": {
              "id": {"type": "string"}, "rule": {"type": "string"}, "action_index": {"type": "integer", "minimum": 0},
              "action": {"type": "string", "description": "delete-object, delete-prefix, abort-multipart."},
              "root": {"type": "string"}, "target": {"description": "The filled parameters and the root's location when the entry was made."},
              "place": {"type": "string", "description": "Where the target is: s3://bucket/prefix/key or /folder/key."},
              "source": {"type": "string"}, "archive_key": {"type": "string"}, "state": {"$ref": "#/components/schemas/QueueState"},
              "attempts": {"type": "integer", "minimum": 0}, "max_attempts": {"type": "integer", "minimum": 0},
              "next_attempt_at": {"type": "string"}, "leased_until": {"type": ["string", "null"]}, "lease_owner": {"type": ["string", "null"]},
              "last_error": {"type": ["string", "null"]}, "last_error_code": {"type": ["string", "null"]},
              "created_at": {"type": "string"}, "completed_at": {"type": ["string", "null"]}, "hold": {"type": ["string", "null"]}}},
          "QueueEntry": {"allOf": [{"$ref": "#/components/schemas/QueueEntrySummary"}, {"type": "object", "required": ["errors", "outcome"],
            "properties": {
              "errors": {"type": "array", "description": "Every failed attempt, oldest first.", "items": {"type": "object",
                "required": ["at", "attempt", "error", "code"], "properties": {
                  "at": {"type": "string"}, "attempt": {"type": "integer", "minimum": 0}, "error": {"type": "string"}, "code": {"type": "string"},
                  "http_status": {"type": "integer"}}}},
              "outcome": {"description": "What the action did, once completed (null before)."}}}]},
          "QueueEntryPage": {"type": "object", "required": ["limit", "more", "entries"], "properties": {
            "limit": {"type": "integer", "minimum": 1}, "more": {"type": "boolean", "description": "More entries match than the limit."},
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/QueueEntrySummary"}}}},
          "QueueFilter": {"type": "object", "additionalProperties": false, "minProperties": 1,
            "description": "Which entries: those named, in the states given and of the rule given (all that are given must hold); at least one.",
            "properties": {
              "ids": {"type": "array", "items": {"type": "string", "pattern": "^[0-9a-f]{4,64}$"}},
              "states": {"type": "array", "items": {"$ref": "#/components/schemas/QueueState"}},
              "rule": {"type": "string"}}},
          "QueueRetried": {"type": "object", "required": ["retried", "left_alone"], "properties": {
            "retried": {"type": "integer", "minimum": 0}, "left_alone": {"type": "integer", "minimum": 0}}},
          "QueueCancelled": {"type": "object", "required": ["cancelled", "left_alone"], "properties": {
            "cancelled": {"type": "integer", "minimum": 0}, "left_alone": {"type": "integer", "minimum": 0}}},
          "QueueDropped": {"type": "object", "required": ["dropped", "left_alone"], "properties": {
            "dropped": {"type": "integer", "minimum": 0}, "left_alone": {"type": "integer", "minimum": 0}}}
        }}
        """
}
