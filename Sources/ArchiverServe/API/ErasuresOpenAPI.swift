/// The OpenAPI paths and schemas of ``ErasuresAPI``.
enum ErasuresOpenAPI {
    static let text = """
        {"paths": {
          "/erasures": {
            "get": {"operationId": "listErasures", "summary": "Erasure jobs, newest first, with their counts and progress.",
              "parameters": [
                {"name": "state", "in": "query", "schema": {"$ref": "#/components/schemas/ErasureState"}, "description": "Only jobs in this state."},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}}],
              "responses": {"200": {"description": "Jobs.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasurePage"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "503": {"$ref": "#/components/responses/Unavailable"}}},
            "post": {"operationId": "requestErasure",
              "summary": "Erase a subject: every archived record and the configured erasure actions; now (carried out by the service's erasure worker), after a while, or a dry run answering the manifest. The subject is taken from the body only and never kept: jobs hold its HMAC.",
              "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasureRequest"}}}},
              "responses": {
                "200": {"description": "The dry run's manifest: the records found through the index, the actions, the objects with their versions, storage classes, ages and early-deletion charges (as `archiver erase --dry-run` lists them), an estimate.",
                  "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasureManifest"}}}},
                "202": {"description": "The job, queued.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasureJob"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"},
                "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/erasures/{job}": {
            "parameters": [{"$ref": "#/components/parameters/ErasureJobID"}],
            "get": {"operationId": "getErasure", "summary": "One job: its state, counts and progress (records left, for a queued or running job).",
              "responses": {"200": {"description": "The job.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasureJob"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/erasures/{job}/receipt": {
            "parameters": [{"$ref": "#/components/parameters/ErasureJobID"}],
            "get": {"operationId": "getErasureReceipt", "summary": "A finished job's receipt (as `archiver erase receipt`): times, counts per store and storage class, request ids, the subject's HMAC, the hash chain.",
              "responses": {"200": {"description": "The receipt.", "content": {"application/json": {"schema": {"type": "object"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
                "503": {"$ref": "#/components/responses/Unavailable"}}}},
          "/erasures/{job}/cancel": {
            "parameters": [{"$ref": "#/components/parameters/ErasureJobID"}],
            "post": {"operationId": "cancelErasure", "summary": "Cancel a job: a queued one at once, a running one at its next clean point (`archiver erase resume` continues it).",
              "responses": {"200": {"description": "The job now.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErasureJob"}}}},
                "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
                "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"},
                "503": {"$ref": "#/components/responses/Unavailable"}}}}
        },
        "parameters": {
          "ErasureJobID": {"name": "job", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1},
            "description": "The job's id (er- and 16 hex digits)."}
        },
        "schemas": {
          "ErasureState": {"type": "string", "enum": ["queued", "running", "completed", "completed-with-errors", "failed", "cancelled"]},
          "ErasureRequest": {"type": "object", "additionalProperties": false, "required": ["subject"], "properties": {
            "subject": {"type": "string", "minLength": 1, "maxLength": 1024, "description": "The subject, as the rules' subject template fills it."},
            "dry_run": {"type": "boolean", "default": false, "description": "Answer the manifest a real run would act on; change nothing."},
            "after": {"type": ["string", "null"], "description": "Carry it out after this long (e.g. 30d, 12h, 90m); default now."}}},
          "ErasureJob": {"type": "object",
            "required": ["job", "state", "origin", "subject_hmac", "requested_at", "not_before", "started_at", "finished_at", "cancel_requested",
              "counts", "error", "progress"],
            "properties": {
              "job": {"type": "string"}, "state": {"$ref": "#/components/schemas/ErasureState"}, "origin": {"type": "string"},
              "subject_hmac": {"type": "string", "description": "HMAC-SHA256 of the subject (the subject itself is never stored)."},
              "requested_at": {"type": "string"}, "not_before": {"type": "string"},
              "started_at": {"type": ["string", "null"]}, "finished_at": {"type": ["string", "null"]},
              "cancel_requested": {"type": "boolean"},
              "counts": {"type": "object", "description": "Objects and actions by store and outcome (archive.deleted, archive.failed, root:<name>.done, …).",
                "additionalProperties": {"type": "integer", "minimum": 0}},
              "error": {"type": ["string", "null"]},
              "progress": {"type": "object", "required": ["erased", "failed", "left"], "properties": {
                "erased": {"type": "integer", "minimum": 0, "description": "Archived objects deleted or rewritten without the subject."},
                "failed": {"type": "integer", "minimum": 0},
                "left": {"type": ["integer", "null"], "minimum": 0, "description": "Records the index still holds for the subject (a queued or running job only)."}}}}},
          "ErasureManifest": {"type": "object",
            "required": ["subject_hmac", "records", "objects_to_delete", "objects_to_rewrite", "archive", "actions", "objects", "estimate"],
            "properties": {
              "subject_hmac": {"type": "string"}, "records": {"type": "integer", "minimum": 0},
              "objects_to_delete": {"type": "integer", "minimum": 0}, "objects_to_rewrite": {"type": "integer", "minimum": 0},
              "archive": {"type": "array", "items": {"type": "object"}}, "actions": {"type": "array", "items": {"type": "object"}},
              "objects": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/ErasureSurvey"}],
                "description": "The objects the erasure deletes or rewrites, from the archive's listings; null when the subject has no records."},
              "estimate": {"type": "object", "required": ["requests", "seconds", "rate", "early_deletion_usd"], "properties": {
                "requests": {"type": "integer", "minimum": 0}, "seconds": {"type": "number", "minimum": 0}, "rate": {"type": "integer"},
                "early_deletion_usd": {"type": ["number", "null"], "minimum": 0}}}}},
          "ErasureSurvey": {"type": "object", "required": ["known", "versions", "by_storage_class", "early_deletion_usd", "objects"],
            "properties": {
              "known": {"type": "boolean", "description": "False where the store has no versions, classes or ages (a folder)."},
              "versions": {"type": "integer", "minimum": 0},
              "by_storage_class": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0},
                "description": "Versions by storage class; delete markers under delete-marker."},
              "early_deletion_usd": {"type": "number", "minimum": 0},
              "objects": {"type": "array", "items": {"type": "object",
                "required": ["key", "operation", "versions", "storage_class", "bytes", "age_days", "early_deletion_usd"],
                "properties": {
                  "key": {"type": "string"}, "operation": {"type": "string", "enum": ["delete", "rewrite", "replace"]},
                  "versions": {"type": "integer", "minimum": 0}, "storage_class": {"type": ["string", "null"]},
                  "bytes": {"type": "integer", "minimum": 0}, "age_days": {"type": ["number", "null"], "minimum": 0},
                  "early_deletion_usd": {"type": "number", "minimum": 0}}}}}},
          "ErasurePage": {"type": "object", "required": ["limit", "more", "jobs"], "properties": {
            "limit": {"type": "integer", "minimum": 1}, "more": {"type": "boolean"},
            "jobs": {"type": "array", "items": {"$ref": "#/components/schemas/ErasureJob"}}}},
          "ErasureStats": {"type": "object", "required": ["states", "objects_erased"], "properties": {
            "states": {"type": "object", "required": ["queued", "running", "completed", "completed-with-errors", "failed", "cancelled"],
              "additionalProperties": {"type": "integer", "minimum": 0}},
            "objects_erased": {"type": "integer", "minimum": 0}}}
        }}
        """
}
