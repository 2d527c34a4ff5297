import Foundation
import Testing
import TestSupport

/// `archiver serve` over HTTP, through the built binary: every endpoint, who may use it, bad input, the page.
@Suite(.serialized) struct ServeHTTPTests {
    @Test("every endpoint answers as documented; SIGTERM then stops it with exit 0 and saved checkpoints")
    func everyEndpoint() async throws {
        let world = try ServeWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()

        #expect(try await server.request("/healthz", token: nil).json["status"] as? String == "alive")
        let ready = try await server.request("/readyz", token: nil)
        #expect(ready.status == 200 && ready.json["ready"] as? Bool == true, "\(ready.text)")
        let metrics = try await server.request("/metrics", token: nil)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        #expect(metrics.text.contains("archiver_records_read_total{source=\"sqlite:"))
        let document = try await server.request("/api/v1/openapi.json")
        #expect(document.json["openapi"] as? String == "3.1.0")

        let stats = try await server.request("/api/v1/stats").json
        #expect((stats["sources"] as? [Any])?.count == 2)
        #expect((stats["dead_letters"] as? [String: Any])?["total"] as? Int == 6)
        #expect((try await server.request("/api/v1/sources").json["sources"] as? [Any])?.count == 2)

        // Dead letters: the fixture's five and the <script> line.
        let list = try await server.request("/api/v1/dead-letters?limit=100").json
        let entries = list["entries"] as? [[String: Any]] ?? []
        #expect(entries.count == 6)
        let hostile = try #require(entries.first { ($0["position"] as? String)?.hasPrefix("line 394 ") == true }?["id"] as? String)
        let shown = try await server.request("/api/v1/dead-letters/\(hostile)").json
        #expect((shown["raw_text"] as? String)?.contains("<script>alert('owned')</script>") == true)
        let retried = try await server.request("/api/v1/dead-letters/\(hostile)/retry", method: "POST").json
        #expect(retried["still_failing"] as? Int == 1)
        let all = try await server.request("/api/v1/dead-letters/retry", method: "POST", json: "{}").json
        #expect(all["tried"] as? Int == 6)
        let other = try #require(entries.first { ($0["id"] as? String) != hostile }?["id"] as? String)
        #expect(try await server.request("/api/v1/dead-letters/\(other)", method: "DELETE").status == 200)
        #expect(try await server.request("/api/v1/dead-letters/\(other)").status == 404)

        // Find a deleted user, look at it, restore it: a dry run first, then for real; then it exists.
        let id = world.deletedUsers[0]
        let records = try await server.request("/api/v1/records?item=\(id)").json["records"] as? [[String: Any]] ?? []
        let key = try #require(records.first?["key"] as? String)
        let record = try await server.request("/api/v1/record?key=\(key.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)").json
        #expect(((record["item"] as? [String: Any])?["id"] as? [String: Any])?["N"] as? String == "\(id)")
        #expect((try await server.request("/api/v1/restore-targets").json["targets"] as? [[String: Any]])?.first?["name"] as? String == "users")
        let count = { try ServeWorld.sqlite(world.folder("app.sqlite"), "SELECT count(*) FROM users WHERE id = \(id)").trimmingCharacters(in: .whitespacesAndNewlines) }
        let dryRun = try await server.request("/api/v1/restore", method: "POST", json: #"{"key": "\#(key)", "target": "users"}"#).json
        #expect(dryRun["outcome"] as? String == "restored")
        #expect(try count() == "0")
        let real = try await server.request("/api/v1/restore", method: "POST", json: #"{"key": "\#(key)", "target": "users", "dry_run": false}"#).json
        #expect(real["outcome"] as? String == "restored")
        #expect(try count() == "1")
        let again = try await server.request("/api/v1/restore", method: "POST", json: #"{"key": "\#(key)", "target": "users", "dry_run": false}"#).json
        #expect(again["outcome"] as? String == "exists")

        let result = await server.stop()
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("archiver serve: stopped"))
        #expect(result.stdout.contains("jsonl:feed.jsonl: read 394, archived 146"))
        // The checkpoints were saved: a tail of the same state has nothing left to read.
        let after = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once", "--json"], in: world.folder.path)
        #expect(after.stdout.contains("\"read\" : 0"), "\(after.stdout)")
        // Nothing of the token in what it printed.
        #expect(!result.stdout.contains(ServeProcess.token) && !result.stderr.contains(ServeProcess.token))
    }

    @Test("the API refuses a request without the token and with a wrong one; the page sends strangers to sign in; forms need the CSRF token")
    func access() async throws {
        let world = try ServeWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }
        let paths = ["/api/v1/stats", "/api/v1/sources", "/api/v1/dead-letters", "/api/v1/openapi.json", "/api/v1/records?item=x", "/api/v1/restore-targets"]
        for path in paths {
            let none = try await server.request(path, token: nil)
            #expect(none.status == 401, "\(path)")
            #expect((none.json["error"] as? [String: Any])?["message"] != nil, "\(path)")
            #expect(try await server.request(path, token: "a-wrong-token-0123456789abcdef").status == 401, "\(path)")
        }
        #expect(try await server.request("/api/v1/restore", method: "POST", token: nil, json: "{}").status == 401)
        #expect(try await server.request("/api/v1/dead-letters/retry", method: "POST", token: "wrong-token-0123456789abcd").status == 401)

        let stranger = try await server.request("/", token: nil)
        #expect(stranger.status == 303 && stranger.headers["location"] == "/login")
        // Sign in as a browser does: the form, its cookie, the token.
        let form = try await server.request("/login", token: nil)
        let formToken = try #require(Self.hidden("csrf", form.text))
        let formCookie = try #require(form.cookie("archiver_signin"))
        let signedIn = try await server.request("/login", method: "POST", token: nil, headers: ["Cookie": formCookie],
                                                form: [("csrf", formToken), ("token", ServeProcess.token)])
        #expect(signedIn.status == 303)
        #expect(signedIn.headers["set-cookie"]?.contains("HttpOnly") == true)
        #expect(signedIn.headers["set-cookie"]?.contains("SameSite=Strict") == true)
        let session = try #require(signedIn.cookie("archiver_session"))
        let overview = try await server.request("/", token: nil, headers: ["Cookie": session])
        #expect(overview.status == 200 && overview.text.contains("id=\"sources\""))
        let csrf = try #require(Self.hidden("csrf", overview.text))
        let id = try #require((try await server.request("/api/v1/dead-letters").json["entries"] as? [[String: Any]])?.first?["id"] as? String)
        let forged = try await server.request("/dead-letters/\(id)/drop", method: "POST", token: nil, headers: ["Cookie": session], form: [])
        #expect(forged.status == 403)
        #expect(forged.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(try await server.request("/api/v1/dead-letters/\(id)").status == 200)
        let dropped = try await server.request("/dead-letters/\(id)/drop", method: "POST", token: nil, headers: ["Cookie": session], form: [("csrf", csrf)])
        #expect(dropped.status == 303)
        #expect(try await server.request("/api/v1/dead-letters/\(id)").status == 404)
    }

    @Test("bad input is refused with a JSON error naming the field; every response carries the security headers")
    func badInput() async throws {
        let world = try ServeWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }
        let cases: [(String, String, String?, String)] = [
            ("/api/v1/dead-letters?limit=-1", "GET", nil, "limit"),
            ("/api/v1/dead-letters?offset=x", "GET", nil, "offset"),
            ("/api/v1/dead-letters?sort=asc", "GET", nil, "sort"),
            ("/api/v1/dead-letters/xyz", "GET", nil, "id"),
            ("/api/v1/records", "GET", nil, "item"),
            ("/api/v1/records?item=1&month=january", "GET", nil, "month"),
            ("/api/v1/record?key=..%2F..%2Fetc%2Fpasswd", "GET", nil, "key"),
            ("/api/v1/restore", "POST", "not json", "body"),
            ("/api/v1/restore", "POST", #"{"key": "2024/01/15/A.103000.1.manual.json.gz"}"#, "target"),
            ("/api/v1/restore", "POST", #"{"key": "2024/01/15/A.103000.1.manual.json.gz", "target": "users", "force": true}"#, "force"),
            ("/api/v1/dead-letters/retry", "POST", #"{"ids": [1]}"#, "ids"),
        ]
        for (path, method, body, field) in cases {
            let reply = try await server.request(path, method: method, json: body)
            #expect((400..<500).contains(reply.status), "\(path) \(reply.status)")
            #expect(reply.errorField == field, "\(path): \(reply.text)")
            #expect(reply.headers["content-type"]?.hasPrefix("application/json") == true, "\(path)")
        }
        for path in ["/healthz", "/api/v1/stats", "/", "/login", "/api/v1/nope", "/dead-letters"] {
            let reply = try await server.request(path, token: path == "/api/v1/stats" ? nil : ServeProcess.token)
            #expect(reply.headers["content-security-policy"]?.contains("frame-ancestors 'none'") == true, "\(path)")
            #expect(reply.headers["x-content-type-options"] == "nosniff", "\(path)")
        }
    }

    @Test("the page shows a dead letter holding <script> as text")
    func escaping() async throws {
        let world = try ServeWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }
        let entries = try await server.request("/api/v1/dead-letters").json["entries"] as? [[String: Any]] ?? []
        let hostile = try #require(entries.first { ($0["position"] as? String)?.hasPrefix("line 394 ") == true }?["id"] as? String)
        let page = try await server.request("/dead-letters/\(hostile)")
        #expect(page.status == 200)
        #expect(page.text.contains("&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;"))
        #expect(!page.text.lowercased().contains("<script"))
        #expect(!(try await server.request("/dead-letters")).text.lowercased().contains("<script"))
    }

    static func hidden(_ name: String, _ html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}
