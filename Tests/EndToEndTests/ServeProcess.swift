import Foundation
import TestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `archiver serve` run as a user runs it, on a free loopback port, and an HTTP client for it (no redirects
/// followed, no cookies kept: each test says what it sends).
final class ServeProcess: @unchecked Sendable {
    static let token = "end-to-end-serve-token-0123456789"
    let running: BuiltBinary.Running
    /// `http://127.0.0.1:<port>`.
    let base: String
    let directory: String

    /// Starts `archiver serve <arguments> --listen 127.0.0.1:0` in `directory` and waits until it listens.
    /// Waits without holding a thread of the tests' pool (parallel tests go on meanwhile).
    init(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws {
        var environment = environment
        if environment["ARCHIVER_SERVE_TOKEN"] == nil { environment["ARCHIVER_SERVE_TOKEN"] = Self.token }
        running = try BuiltBinary.start(["serve"] + arguments + ["--listen", "127.0.0.1:0"], in: directory, environment: environment)
        ChildProcess.killWhenOrphaned(running.pid)
        self.directory = directory
        let deadline = Date().addingTimeInterval(60)
        var found: String?
        while Date() < deadline, running.process.isRunning {
            if let range = running.standardOutputSoFar.range(of: "listening on http://") {
                let rest = running.standardOutputSoFar[range.upperBound...]
                if rest.contains("\n") {
                    found = "http://" + rest.prefix { $0 != "\n" }
                    break
                }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let found else {
            running.signal(SIGKILL)
            throw ServeFailed(message: "archiver serve did not start listening: \(await running.finish().stderr.suffix(3000))")
        }
        base = found
    }

    struct ServeFailed: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Stops it with SIGTERM and waits for the end.
    /// At the end of a test that does not look at how it stopped: SIGTERM, and SIGKILL if it is still running after a
    /// grace period (never waits on a thread of the tests' pool).
    func kill() {
        running.signal(SIGTERM)
        let pid = running.pid
        Thread.detachNewThread {
            for _ in 0..<300 where Foundation.kill(pid, 0) == 0 { usleep(100_000) }
            if Foundation.kill(pid, 0) == 0 { _ = Foundation.kill(pid, SIGKILL) }
        }
    }

    func stop() async -> BuiltBinary.Result {
        running.signal(SIGTERM)
        return await running.finish()
    }

    /// A response.
    struct Reply: Sendable {
        var status: Int
        /// Header names in lower case.
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        /// The `field` of a JSON error.
        var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }
        /// A `Set-Cookie` header's `name=value`.
        func cookie(_ name: String) -> String? {
            guard let header = headers["set-cookie"] else { return nil }
            for part in header.components(separatedBy: ", ") where part.hasPrefix(name + "=") {
                return String(part.split(separator: ";")[0])
            }
            return nil
        }
    }

    /// Sends a request. `token`: the bearer token to send (nil: none).
    func request(_ path: String, method: String = "GET", token: String? = ServeProcess.token, headers: [String: String] = [:],
                 json: String? = nil, form: [(String, String)]? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.timeoutInterval = 60
        request.httpShouldHandleCookies = false
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        if let form {
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            request.httpBody = Data(form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&").utf8)
        }
        let (data, response) = try await Self.session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    /// Waits until `condition` holds (polling), at most `seconds`.
    func wait(seconds: Double = 60, until condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// The source named `name` in `/api/v1/sources`.
    func source(_ name: String) async throws -> [String: Any]? {
        let sources = try await request("/api/v1/sources").json["sources"] as? [[String: Any]] ?? []
        return sources.first { ($0["name"] as? String) == name }
    }

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        return URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }()
}

/// Answers a redirect with itself, as a test wants to see it.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

/// A served world for the end-to-end tests: a JSON-lines feed (the fixture, plus a line holding `<script>`), a SQLite
/// application database whose deleted rows are recorded by its change table, both tailed, and the database's
/// `users` table as the restore target.
struct ServeWorld {
    let folder: TemporaryFolder
    /// Rows deleted from `users` (their ids).
    let deletedUsers: [Int]

    static let hostileLine = #"{"eventName":"REMOVE","dynamodb":{"Keys":{"PK":{"S":"<script>alert('owned')</script>"}}"#

    /// With `queue`, deletion rules queue an action for each archived deletion of the feed's `app-main` table (a
    /// file under `files/items/`; an item key that would leave the root parks its entry at once); the queue's
    /// workers do not run in the service, so the entries wait for the API. Each such deletion also waits for an
    /// `analytics` consumer's ack (a coordination) and is indexed under its item key as its subject (for erasures).
    init(extraConfiguration: String = "", queue: Bool = false) throws {
        folder = TemporaryFolder("serve-e2e")
        var extraConfiguration = extraConfiguration
        if queue {
            try FileManager.default.createDirectory(atPath: folder("files/items"), withIntermediateDirectories: true)
            extraConfiguration += """

                roots: {files: \(folder("files"))}
                rules:
                  - name: app-items
                    match: {table: app-main}
                    subject: "{Keys.PK.S}"
                    actions:
                      - delete-object: {root: files, key: "items/{Keys.PK.S}"}
                    coordinate: {consumers: [analytics], timeout: 10m}
                queue: {run-in-tail: false}
                """
        }
        // The fixture holds a line of Latin-1 on purpose: bytes, not text.
        let feed = try Data(contentsOf: URL(fileURLWithPath: PackagePaths.fixture("feed.jsonl")))
        try (feed + Data((Self.hostileLine + "\n").utf8)).write(to: URL(fileURLWithPath: folder("feed.jsonl")))
        try FileManager.default.copyItem(atPath: PackagePaths.fixture("app.sqlite"), toPath: folder("app.sqlite"))
        let initialized = try BuiltBinary.run(["sqlite", "init", "app.sqlite", "--table", "users", "--ttl-column", "expires_at"], in: folder.path)
        guard initialized.status == 0 else { throw ServeProcess.ServeFailed(message: initialized.stderr) }
        let ids = try Self.sqlite(folder("app.sqlite"), "SELECT id FROM users WHERE id % 4 = 1 ORDER BY id").split(separator: "\n").compactMap { Int($0) }
        _ = try Self.sqlite(folder("app.sqlite"), "DELETE FROM users WHERE id % 4 = 1")
        deletedUsers = ids
        try Data("""
            state: state
            archive: archive
            sources:
              - jsonl:feed.jsonl
              - sqlite:app.sqlite
            serve:
              grace-period: 20s
              restore-targets:
                users: sqlite:app.sqlite#users
            \(extraConfiguration)
            """.utf8).write(to: URL(fileURLWithPath: folder("archiver.yml")))
    }

    /// Runs `sql` with the sqlite3 shell; its output.
    @discardableResult
    static func sqlite(_ database: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["sqlite3", database, sql]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.readToEnd()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Starts `archiver serve --config archiver.yml` on this world and waits until both sources are read.
    func serve(_ more: [String] = [], environment: [String: String] = [:]) async throws -> ServeProcess {
        let server = try await ServeProcess(["--config", "archiver.yml"] + more, in: folder.path, environment: environment)
        let ready = try await server.wait {
            let feed = try await server.source("jsonl:feed.jsonl")
            let table = try await server.source("sqlite:app.sqlite")
            return (feed?["totals"] as? [String: Any])?["read"] as? Int == 394
                && (table?["totals"] as? [String: Any])?["read"] as? Int == deletedUsers.count
        }
        guard ready else { throw ServeProcess.ServeFailed(message: "the sources were not read in time: \(server.running.standardErrorSoFar.suffix(2000))") }
        return server
    }
}
