import ArchiverCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSONToolkit
import Testing

@testable import ArchiverServe

@Suite("Serve: the HTTP API")
struct ServeAPITests {
    @Test("stats hold the sources and the dead letters, counted from the folder")
    func stats() async throws {
        let bed = try await ServeTestbed(records: 1000)
        let expected = bed.counts.malformed + bed.counts.removesWithoutImage
        #expect(expected > 0)
        try await bed.test { client in
            let stats = try await client.authorized("/api/v1/stats").json
            #expect(stats["dead_letters"]?["total"] == .integer(expected))
            #expect(stats["dead_letters"]?["by_code"]?["malformed-json"] == .integer(bed.counts.malformed))
            #expect(stats["sources"]?[0]?["name"]?.stringValue == "jsonl:" + bed.feed)
            #expect(stats["generated_at"]?.stringValue != nil)
        }
    }

    @Test("dead letters: list by code, page, show one with its raw record, retry, drop")
    func deadLetters() async throws {
        let bed = try await ServeTestbed(records: 1000)
        try await bed.test { client in
            let all = try await client.authorized("/api/v1/dead-letters?limit=1").json
            #expect(all["total"] == .integer(bed.counts.malformed + bed.counts.removesWithoutImage))
            #expect(all["entries"]?.arrayCount == 1)
            let malformed = try await client.authorized("/api/v1/dead-letters?code=malformed-json").json
            #expect(malformed["total"] == .integer(bed.counts.malformed))
            let id = try #require(malformed["entries"]?[0]?["id"]?.stringValue)
            let entry = try await client.authorized("/api/v1/dead-letters/\(id)").json
            #expect(entry["raw_text"]?.stringValue?.contains("broken") == true)
            #expect(entry["code"]?.stringValue == "malformed-json")
            // Retrying a malformed line leaves it failing, one attempt more.
            let retried = try await client.authorized("/api/v1/dead-letters/\(id)/retry", .post).json
            #expect(retried["still_failing"] == .integer(1))
            #expect(try await client.authorized("/api/v1/dead-letters/\(id)").json["attempts"] == .integer(2))
            let dropped = try await client.authorized("/api/v1/dead-letters/\(id)", .delete)
            #expect(dropped.status == .ok)
            #expect(try await client.authorized("/api/v1/dead-letters/\(id)").status == .notFound)
            #expect(try await client.authorized("/api/v1/dead-letters/\(id)", .delete).status == .notFound)
        }
    }

    @Test("a dead letter the store could not take is archived by a retry and leaves the folder")
    func retryArchives() async throws {
        let bed = try await ServeTestbed(records: 10)
        // A REMOVE the store refused earlier: its entry holds the whole record.
        let record = #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1705315800,"Keys":{"PK":{"S":"RETRY#1"}},"OldImage":{"PK":{"S":"RETRY#1"},"v":{"N":"1"}},"SequenceNumber":"77"}}"#
        let letter = DeadLetter(source: "jsonl:/x", partition: "", position: "line 1 (byte 0)", reason: "the store refused it", code: "write-failed",
                                raw: Array(record.utf8), at: Date())
        try await bed.context.deadLetters.write([letter])
        try await bed.test { client in
            let result = try await client.authorized("/api/v1/dead-letters/retry", .post, json: #"{"ids": ["\#(letter.id)"]}"#).json
            #expect(result["archived"] == .integer(1))
            #expect(try await client.authorized("/api/v1/dead-letters/\(letter.id)").status == .notFound)
            let found = try await client.authorized("/api/v1/records?item=RETRY%231&month=2024-01").json
            #expect(found["records"]?.arrayCount == 1)
        }
    }

    @Test("records: find an item's deletions by item key and month, read one, restore it after a dry run")
    func recordsAndRestore() async throws {
        let bed = try await ServeTestbed(records: 60)
        try await bed.test { client in
            // Line 7 is a manual REMOVE of USER#7 / ITEM#7/y.
            let found = try await client.authorized("/api/v1/records?item=USER%237_*&month=2024-01").json
            let key = try #require(found["records"]?[0]?["key"]?.stringValue)
            #expect(found["truncated"] == .bool(false))
            let record = try await client.authorized("/api/v1/record?key=\(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)").json
            #expect(record["item"]?["PK"]?["S"]?.stringValue == "USER#7")
            #expect(record["item"]?["big"]?["N"] == .string("12345678901234567890123456789012345678"))
            let body = #"{"key": "\#(key)", "target": "memory"}"#
            let dryRun = try await client.authorized("/api/v1/restore", .post, json: body).json
            #expect(dryRun["dry_run"] == .bool(true))
            #expect(dryRun["outcome"]?.stringValue == "restored")
            #expect(bed.target.restored.isEmpty)
            let real = try await client.authorized("/api/v1/restore", .post, json: #"{"key": "\#(key)", "target": "memory", "dry_run": false}"#).json
            #expect(real["outcome"]?.stringValue == "restored")
            #expect(bed.target.restored.count == 1)
            let again = try await client.authorized("/api/v1/restore", .post, json: #"{"key": "\#(key)", "target": "memory", "dry_run": false}"#).json
            #expect(again["outcome"]?.stringValue == "exists")
        }
    }

    @Test("bad input is refused with a JSON error naming the field", arguments: [
        ("/api/v1/dead-letters?limit=0", HTTPRequest.Method.get, nil, "limit"),
        ("/api/v1/dead-letters?limit=abc", .get, nil, "limit"),
        ("/api/v1/dead-letters?colour=red", .get, nil, "colour"),
        ("/api/v1/dead-letters/not-hex", .get, nil, "id"),
        ("/api/v1/dead-letters/abc123", .get, nil, "id"),
        ("/api/v1/records?month=2024-01", .get, nil, "item"),
        ("/api/v1/records?item=X&month=2024-13", .get, nil, "month"),
        ("/api/v1/records?item=X&kind=soft", .get, nil, "kind"),
        ("/api/v1/record?key=not/a/key", .get, nil, "key"),
        ("/api/v1/record?key=2024/01/15/A.103000.1.manual.json.gz", .get, nil, "key"),
        ("/api/v1/restore", .post, "{", "body"),
        ("/api/v1/restore", .post, "[]", "body"),
        ("/api/v1/restore", .post, #"{"target": "memory"}"#, "key"),
        ("/api/v1/restore", .post, #"{"key": 5, "target": "memory"}"#, "key"),
        ("/api/v1/restore", .post, #"{"key": "2024/01/15/A.103000.1.manual.json.gz", "target": "memory", "dryrun": true}"#, "dryrun"),
        ("/api/v1/restore", .post, #"{"key": "2024/01/15/A.103000.1.manual.json.gz", "target": "memory", "dry_run": "yes"}"#, "dry_run"),
        ("/api/v1/dead-letters/retry", .post, #"{"ids": "all"}"#, "ids"),
        ("/api/v1/dead-letters/retry", .post, #"{"ids": ["zz"]}"#, "ids"),
        ("/api/v1/stats?x=1", .get, nil, "x"),
    ] as [(String, HTTPRequest.Method, String?, String)])
    func badInput(uri: String, method: HTTPRequest.Method, body: String?, field: String) async throws {
        let bed = try await ServeTestbed(records: 10)
        try await bed.test { client in
            let response = try await client.authorized(uri, method, json: body)
            #expect((400..<500).contains(response.status.code), "\(uri)")
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(response.errorField == field, "\(uri): \(response.text)")
        }
    }

    @Test("a restore into a target that is not configured names the target field and the configured ones")
    func unknownTarget() async throws {
        let bed = try await ServeTestbed(records: 60)
        try await bed.test { client in
            let key = try #require(try await client.authorized("/api/v1/records?item=USER%237_*").json["records"]?[0]?["key"]?.stringValue)
            let response = try await client.authorized("/api/v1/restore", .post, json: #"{"key": "\#(key)", "target": "prod"}"#)
            #expect(response.status == .badRequest)
            #expect(response.errorField == "target")
            #expect(try response.json["error"]?["message"]?.stringValue?.contains("memory") == true)
        }
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }

    var arrayCount: Int? {
        guard case .array(let items) = self else { return nil }
        return items.count
    }
}
