import Foundation
import Testing
import TestSupport

/// The deletion queue in `archiver serve`, through the built binary: the API's every queue endpoint, who may use it,
/// bad input naming its field, the page's section (CSRF, escaping), and the metrics against `queue stats`.
@Suite("serve: the deletion queue", .serialized)
struct ServeQueueTests {
    @Test("stats, a batch run now, entries listed and shown with their error history, retry / cancel / drop of one and of a filter")
    func everyQueueEndpoint() async throws {
        let world = try ServeQueueWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }

        let stats = try await server.request("/api/v1/queue/stats").json
        #expect(stats["total"] as? Int == world.total)
        let states = stats["states"] as? [String: Int] ?? [:]
        #expect(states["available"] == world.owned + 1 && states["parked"] == world.unsafe, "\(stats)")
        #expect((stats["errors"] as? [String: Int])?["unsafe-target"] == world.unsafe)
        #expect(stats["oldest_waiting_age_seconds"] is NSNumber)
        let whole = try await server.request("/api/v1/stats").json
        #expect(((whole["queue"] as? [String: Any])?["states"] as? [String: Int])?["parked"] == world.unsafe)

        // A batch now: five entries claimed and carried out (five owned files gone).
        let ran = try await server.request("/api/v1/queue/run?batch_size=5", method: "POST").json
        #expect(ran["claimed"] as? Int == 5 && ran["completed"] as? Int == 5 && ran["batch_size"] as? Int == 5, "\(ran)")
        #expect(try world.ownedFilesLeft() == world.owned - 5)

        // Lists: by state, by rule, limited.
        let parked = try await server.request("/api/v1/queue/entries?state=parked").json["entries"] as? [[String: Any]] ?? []
        #expect(parked.count == world.unsafe && parked.allSatisfy { $0["state"] as? String == "parked" && $0["errors"] == nil })
        let completed = try await server.request("/api/v1/queue/entries?state=completed&rule=owned").json
        #expect((completed["entries"] as? [Any])?.count == 5 && completed["more"] as? Bool == false)
        let two = try await server.request("/api/v1/queue/entries?limit=2").json
        #expect((two["entries"] as? [Any])?.count == 2 && two["more"] as? Bool == true)
        #expect((try await server.request("/api/v1/queue/entries?rule=nothing").json["entries"] as? [Any])?.isEmpty == true)

        // One entry, by its id's first characters: the error history says why it was parked.
        let id = try #require(parked.first?["id"] as? String)
        let shown = try await server.request("/api/v1/queue/entries/\(id.prefix(12))").json
        #expect(shown["id"] as? String == id)
        let errors = shown["errors"] as? [[String: Any]] ?? []
        #expect(errors.count == 1 && errors.first?["code"] as? String == "unsafe-target", "\(shown)")

        // One entry: retry (available now), cancel, a second cancel refused by its state, drop, then it is gone.
        let retried = try await server.request("/api/v1/queue/entries/\(id)/retry", method: "POST").json
        #expect(retried["state"] as? String == "available" && retried["max_attempts"] as? Int ?? 0 >= 1, "\(retried)")
        let cancelled = try await server.request("/api/v1/queue/entries/\(id)/cancel", method: "POST").json
        #expect(cancelled["state"] as? String == "cancelled")
        let again = try await server.request("/api/v1/queue/entries/\(id)/cancel", method: "POST")
        #expect(again.status == 409 && again.errorField == "id", "\(again.text)")
        #expect(try await server.request("/api/v1/queue/entries/\(id)", method: "DELETE").json["dropped"] as? String == id)
        let gone = try await server.request("/api/v1/queue/entries/\(id)")
        #expect(gone.status == 404 && gone.errorField == "id")

        // Everything a filter selects: cancel the available ones of the rule, retry them, drop the parked ones by id.
        let bulkCancel = try await server.request("/api/v1/queue/entries/cancel", method: "POST", json: #"{"states": ["available"], "rule": "owned"}"#).json
        #expect(bulkCancel["cancelled"] as? Int == world.owned - 5 + 1 && bulkCancel["left_alone"] as? Int == 0, "\(bulkCancel)")
        let bulkRetry = try await server.request("/api/v1/queue/entries/retry", method: "POST", json: #"{"states": ["cancelled", "completed"]}"#).json
        #expect(bulkRetry["retried"] as? Int == world.owned - 5 + 1 && bulkRetry["left_alone"] as? Int == 5, "\(bulkRetry)")
        let rest = parked.dropFirst().compactMap { $0["id"] as? String }
        let idsJSON = "[" + rest.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        let bulkDrop = try await server.request("/api/v1/queue/entries/drop", method: "POST", json: #"{"ids": \#(idsJSON)}"#).json
        #expect(bulkDrop["dropped"] as? Int == rest.count && bulkDrop["left_alone"] as? Int == 0, "\(bulkDrop)")
        let after = try await server.request("/api/v1/queue/stats").json
        #expect(after["total"] as? Int == world.total - world.unsafe)
        #expect((after["states"] as? [String: Int])?["available"] == world.owned - 5 + 1)

        // What the API said is what `queue stats` reads from the state database.
        let cli = try await BuiltBinary.run(["queue", "stats", "--state-folder", "state", "--json"], in: world.folder.path)
        let cliStats = try #require(try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any], "\(cli.stderr)")
        #expect(cliStats["states"] as? [String: Int] == after["states"] as? [String: Int])
    }

    @Test("the queue's endpoints refuse a request without the token and with a wrong one, and bad input with the field named")
    func accessAndBadInput() async throws {
        let world = try ServeQueueWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }
        let id = try #require((try await server.request("/api/v1/queue/entries?state=parked").json["entries"] as? [[String: Any]])?.first?["id"] as? String)
        let endpoints: [(String, String, String?)] = [
            ("/api/v1/queue/stats", "GET", nil), ("/api/v1/queue/run", "POST", nil), ("/api/v1/queue/entries", "GET", nil),
            ("/api/v1/queue/entries/\(id)", "GET", nil), ("/api/v1/queue/entries/\(id)/retry", "POST", nil),
            ("/api/v1/queue/entries/\(id)/cancel", "POST", nil), ("/api/v1/queue/entries/\(id)", "DELETE", nil),
            ("/api/v1/queue/entries/retry", "POST", #"{"states": ["parked"]}"#), ("/api/v1/queue/entries/cancel", "POST", #"{"states": ["parked"]}"#),
            ("/api/v1/queue/entries/drop", "POST", #"{"states": ["parked"]}"#),
        ]
        for (path, method, body) in endpoints {
            let none = try await server.request(path, method: method, token: nil, json: body)
            #expect(none.status == 401 && (none.json["error"] as? [String: Any])?["message"] != nil, "\(method) \(path)")
            #expect(try await server.request(path, method: method, token: "a-wrong-token-0123456789abcdef", json: body).status == 401, "\(method) \(path)")
        }
        // Nothing was changed by the refused requests.
        #expect((try await server.request("/api/v1/queue/stats").json["states"] as? [String: Int])?["parked"] == world.unsafe)

        let cases: [(String, String, String?, String, Int)] = [
            ("/api/v1/queue/run?batch_size=0", "POST", nil, "batch_size", 400),
            ("/api/v1/queue/run?batch_size=lots", "POST", nil, "batch_size", 400),
            ("/api/v1/queue/run?batch_size=10001", "POST", nil, "batch_size", 400),
            ("/api/v1/queue/run?size=5", "POST", nil, "size", 400),
            ("/api/v1/queue/entries?state=waiting", "GET", nil, "state", 400),
            ("/api/v1/queue/entries?limit=0", "GET", nil, "limit", 400),
            ("/api/v1/queue/entries/xyz", "GET", nil, "id", 400),
            ("/api/v1/queue/entries/0000000000000000", "GET", nil, "id", 404),
            ("/api/v1/queue/entries/zz/retry", "POST", nil, "id", 400),
            ("/api/v1/queue/entries/retry", "POST", "{}", "ids", 400),
            ("/api/v1/queue/entries/retry", "POST", nil, "body", 400),
            ("/api/v1/queue/entries/cancel", "POST", #"{"states": ["nope"]}"#, "states", 400),
            ("/api/v1/queue/entries/drop", "POST", #"{"ids": [1]}"#, "ids", 400),
            ("/api/v1/queue/entries/drop", "POST", #"{"ids": ["00000000"]}"#, "ids", 404),
            ("/api/v1/queue/entries/drop", "POST", #"{"states": ["parked"], "all": true}"#, "all", 400),
            ("/api/v1/queue/entries/retry", "POST", "not json", "body", 400),
        ]
        for (path, method, body, field, status) in cases {
            let reply = try await server.request(path, method: method, json: body)
            #expect(reply.status == status, "\(method) \(path) \(body ?? ""): \(reply.status) \(reply.text)")
            #expect(reply.errorField == field, "\(method) \(path) \(body ?? ""): \(reply.text)")
            #expect(reply.headers["content-type"]?.hasPrefix("application/json") == true, "\(path)")
        }
        #expect((try await server.request("/api/v1/queue/stats").json["states"] as? [String: Int])?["parked"] == world.unsafe)
    }

    @Test("the page: counts on the overview, the list by state, an entry's error history, target data escaped, forms need the CSRF token")
    func page() async throws {
        let world = try ServeQueueWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }
        let overview = try await server.request("/")
        #expect(overview.status == 200)
        #expect(overview.text.contains(#"id="queue-count-parked">\#(world.unsafe)<"#), "\(overview.text)")
        #expect(overview.text.contains(#"id="queue-count-available">\#(world.owned + 1)<"#))

        let list = try await server.request("/queue?state=available")
        #expect(list.status == 200)
        // The hostile target shows as text, never as markup, in the list and on its entry's page.
        #expect(list.text.contains("&lt;script&gt;alert(&#39;q&#39;)&lt;"), "\(list.text.prefix(3000))")
        #expect(!list.text.lowercased().contains("<script"))
        let entries = try await server.request("/api/v1/queue/entries?state=available&limit=1000").json["entries"] as? [[String: Any]] ?? []
        let hostile = try #require(entries.first { ($0["place"] as? String)?.contains("<script>") == true }?["id"] as? String)
        let shown = try await server.request("/queue/entries/\(hostile)")
        #expect(shown.status == 200 && !shown.text.lowercased().contains("<script"))

        let parkedID = try #require((try await server.request("/api/v1/queue/entries?state=parked").json["entries"] as? [[String: Any]])?.first?["id"] as? String)
        let parkedPage = try await server.request("/queue/entries/\(parkedID)")
        #expect(parkedPage.text.contains("id=\"queue-errors\"") && parkedPage.text.contains("unsafe-target"))
        #expect(try await server.request("/queue?state=bogus").status == 400)

        // Sign in; a drop without the form's CSRF token is refused, with it the entry is gone.
        let session = try await world.signIn(server)
        let page = try await server.request("/queue?state=parked", token: nil, headers: ["Cookie": session])
        let csrf = try #require(ServeHTTPTests.hidden("csrf", page.text))
        #expect(page.text.contains("queue-drop-\(parkedID)"))
        let forged = try await server.request("/queue/entries/\(parkedID)/drop", method: "POST", token: nil, headers: ["Cookie": session], form: [])
        #expect(forged.status == 403)
        let wrong = try await server.request("/queue/drop", method: "POST", token: nil, headers: ["Cookie": session], form: [("csrf", "nope"), ("state", "parked")])
        #expect(wrong.status == 403)
        #expect(try await server.request("/api/v1/queue/entries/\(parkedID)").status == 200)
        let dropped = try await server.request("/queue/entries/\(parkedID)/drop", method: "POST", token: nil, headers: ["Cookie": session], form: [("csrf", csrf)])
        #expect(dropped.status == 303 && dropped.headers["location"] == "/queue")
        #expect(try await server.request("/api/v1/queue/entries/\(parkedID)").status == 404)
        // A batch from the page, and the filter's bulk retry.
        let ran = try await server.request("/queue/run", method: "POST", token: nil, headers: ["Cookie": session], form: [("csrf", csrf), ("batch_size", "3")])
        #expect(ran.status == 303)
        #expect(try world.ownedFilesLeft() <= world.owned - 2)
        let retried = try await server.request("/queue/retry", method: "POST", token: nil, headers: ["Cookie": session],
                                               form: [("csrf", csrf), ("state", "parked"), ("rule", "")])
        #expect(retried.status == 303 && retried.headers["location"] == "/queue?state=parked")
        #expect((try await server.request("/api/v1/queue/stats").json["states"] as? [String: Int])?["parked"] == 0)
        let everything = try await server.request("/queue/drop", method: "POST", token: nil, headers: ["Cookie": session], form: [("csrf", csrf)])
        #expect(everything.status == 400)
    }

    @Test("metrics: queue entries by state equal `queue stats`; action outcomes and durations by rule; queue run --metrics-listen serves them too")
    func metrics() async throws {
        let world = try ServeQueueWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        _ = try await server.request("/api/v1/queue/run?batch_size=4", method: "POST")
        let parsed = try ServeLifecycleTests.parse(server.base + "/metrics")
        let cli = try await BuiltBinary.run(["queue", "stats", "--state-folder", "state", "--json"], in: world.folder.path)
        let states = try #require((try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any])?["states"] as? [String: Int])
        for (state, count) in states {
            #expect(ServeLifecycleTests.sum(parsed, "archiver_queue_entries", ["state": state]) == Double(count), "\(state)")
        }
        #expect(states["completed"] == 4)
        #expect(ServeLifecycleTests.sum(parsed, "archiver_queue_actions_total", ["rule": "owned", "action": "delete-object", "outcome": "completed"]) == 4)
        #expect(ServeLifecycleTests.sum(parsed, "archiver_queue_action_duration_seconds_count", ["rule": "owned", "action": "delete-object"]) == 4)
        let families = parsed["families"] as? [String: String] ?? [:]
        #expect(families["archiver_queue_entries"] == "gauge")
        #expect(families["archiver_queue_actions"] == "counter")
        #expect(families["archiver_queue_action_duration_seconds"] == "histogram")
        #expect(await server.stop().status == 0)

        // `queue run --metrics-listen`: the worker carries out the rest; its metrics say so.
        let run = try BuiltBinary.start(["queue", "run", "--config", "archiver.yml", "--metrics-listen", "127.0.0.1:0"], in: world.folder.path)
        ChildProcess.killWhenOrphaned(run.pid)
        var url: String?
        let deadline = Date().addingTimeInterval(60)
        while url == nil, Date() < deadline, run.process.isRunning {
            if let range = run.standardErrorSoFar.range(of: "serving metrics on ") {
                let rest = run.standardErrorSoFar[range.upperBound...]
                if rest.contains("\n") { url = String(rest.prefix { $0 != "\n" }) }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let metrics = try #require(url, "\(run.standardErrorSoFar)")
        var ran: [String: Any] = [:]
        while Date() < deadline {
            ran = try ServeLifecycleTests.parse(metrics)
            if ServeLifecycleTests.sum(ran, "archiver_queue_entries", ["state": "completed"]) == Double(world.owned + 1) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        run.signal(SIGTERM)
        let result = await run.finish()
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")
        #expect(ServeLifecycleTests.sum(ran, "archiver_queue_entries", ["state": "completed"]) == Double(world.owned + 1))
        #expect(ServeLifecycleTests.sum(ran, "archiver_queue_entries", ["state": "parked"]) == Double(world.unsafe))
        #expect(ServeLifecycleTests.sum(ran, "archiver_queue_actions_total", ["outcome": "completed"]) == Double(world.owned + 1 - 4))
        #expect(try world.ownedFilesLeft() == 0)
    }

    @Test("a state folder whose configuration has no rules answers with an empty queue; a batch run is refused naming the roots")
    func withoutRules() async throws {
        let world = try ServeWorld()
        defer { world.folder.remove() }
        let server = try await world.serve()
        defer { server.kill() }
        let stats = try await server.request("/api/v1/queue/stats").json
        #expect(stats["total"] as? Int == 0 && (stats["states"] as? [String: Int])?["available"] == 0, "\(stats)")
        #expect(((try await server.request("/api/v1/stats").json["queue"]) as? [String: Any])?["total"] as? Int == 0)
        #expect((try await server.request("/api/v1/queue/entries").json["entries"] as? [Any])?.isEmpty == true)
        let run = try await server.request("/api/v1/queue/run", method: "POST")
        #expect(run.status == 409 && ((run.json["error"] as? [String: Any])?["message"] as? String)?.contains("roots") == true, "\(run.text)")
        #expect(try await server.request("/queue").status == 200)
    }
}

/// A served world with deletion rules: a feed of deletions of `uploads` items, each owning `files/<n>.bin`, a few
/// whose file would leave the root (parked as unsafe at once) and one whose file name holds `<script>`; the queue's
/// workers do not run in the service (queue.run-in-tail: false), so the entries wait for the API.
struct ServeQueueWorld {
    let folder: TemporaryFolder
    let owned = 12
    let unsafe = 2
    var total: Int { owned + unsafe + 1 }

    init() throws {
        folder = TemporaryFolder("serve-queue")
        try FileManager.default.createDirectory(atPath: folder("files"), withIntermediateDirectories: true)
        var files = (0..<owned).map { "\($0).bin" }
        for file in files { try Data("file \(file)".utf8).write(to: URL(fileURLWithPath: folder("files/" + file))) }
        files += (0..<unsafe).map { "../escape\($0).bin" } + ["<script>alert('q')</script>.bin"]
        let feed = files.enumerated().map { n, file in
            let escaped = file.replacingOccurrences(of: "'", with: "\\u0027")
            return #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"U\#(n)"}},"#
                + #""OldImage":{"PK":{"S":"U\#(n)"},"file":{"S":"\#(escaped)"}},"SequenceNumber":"\#(1_000_000 + n)"},"#
                + #""eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/uploads/stream/x"}"#
        }.joined(separator: "\n") + "\n"
        try feed.write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        try """
            state: state
            archive: archive
            sources: ["jsonl:feed.jsonl"]
            roots: {files: \(folder("files"))}
            rules:
              - name: owned
                match: {table: uploads}
                actions:
                  - delete-object: {root: files, key: "{OldImage.file.S}"}
            queue: {run-in-tail: false, poll: 200ms}
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
    }

    /// The owned files still there.
    func ownedFilesLeft() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: folder("files")).filter { $0.hasSuffix(".bin") }.count
    }

    /// Starts `archiver serve --config archiver.yml` and waits until every deletion's entry is queued.
    func serve() async throws -> ServeProcess {
        let server = try await ServeProcess(["--config", "archiver.yml"], in: folder.path)
        let queued = try await server.wait {
            try await server.request("/api/v1/queue/stats").json["total"] as? Int == total
        }
        guard queued else { throw ServeProcess.ServeFailed(message: "the entries were not queued in time: \(server.running.standardErrorSoFar.suffix(2000))") }
        return server
    }

    /// Signs in as a browser does; the session cookie.
    func signIn(_ server: ServeProcess) async throws -> String {
        let form = try await server.request("/login", token: nil)
        let formToken = try #require(ServeHTTPTests.hidden("csrf", form.text))
        let formCookie = try #require(form.cookie("archiver_signin"))
        let signedIn = try await server.request("/login", method: "POST", token: nil, headers: ["Cookie": formCookie],
                                                form: [("csrf", formToken), ("token", ServeProcess.token)])
        return try #require(signedIn.cookie("archiver_session"))
    }
}
