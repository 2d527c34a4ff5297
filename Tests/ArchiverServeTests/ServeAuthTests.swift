import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ArchiverCore
import Testing

@testable import ArchiverServe

@Suite("Serve: who may do what")
struct ServeAuthTests {
    @Test("the API refuses a request without a token and one with a wrong token, with a JSON error; the right token passes")
    func bearer() async throws {
        let bed = try await ServeTestbed(records: 20)
        try await bed.test { client in
            let none = try await client.execute(uri: "/api/v1/stats", method: .get)
            #expect(none.status == .unauthorized)
            #expect(none.headers[.wwwAuthenticate] == "Bearer")
            #expect(try none.json["error"]?["message"]?.stringValue?.contains("Bearer") == true)
            let wrong = try await client.execute(uri: "/api/v1/stats", method: .get, headers: [.authorization: "Bearer not-the-token-0123456789"])
            #expect(wrong.status == .unauthorized)
            let basic = try await client.execute(uri: "/api/v1/stats", method: .get, headers: [.authorization: "Basic \(ServeTestbed.token)"])
            #expect(basic.status == .unauthorized)
            let right = try await client.authorized("/api/v1/stats")
            #expect(right.status == .ok)
            // The refusal never echoes what was sent.
            #expect(!wrong.text.contains("not-the-token"))
        }
    }

    @Test("health, readiness and metrics are open; everything else, unknown paths included, is not")
    func openPaths() async throws {
        let bed = try await ServeTestbed(records: 10)
        try await bed.test { client in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            // The tails have not been started here: not ready, and it says why.
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .serviceUnavailable)
            #expect(try ready.json["problems"]?.serialized.contains("starting") == true)
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/api/v1/openapi.json", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/v1/nothing", method: .get).status == .unauthorized)
            #expect(try await client.authorized("/api/v1/nothing").status == .notFound)
        }
    }

    @Test("the page sends strangers to the sign-in page; a wrong token is refused; the right one gives an HttpOnly, SameSite=Strict session")
    func signIn() async throws {
        let bed = try await ServeTestbed(records: 10)
        try await bed.test { client in
            let stranger = try await client.execute(uri: "/", method: .get)
            #expect(stranger.status == .seeOther)
            #expect(stranger.headers[.location] == "/login")
            let form = try await client.execute(uri: "/login", method: .get)
            let formToken = try #require(Self.hidden("csrf", in: form.text))
            let formCookie = "\(SessionStore.signInCookieName)=\(formToken)"
            // The sign-in form's own token must match its cookie.
            let forged = try await client.form("/login", [("csrf", "0000"), ("token", ServeTestbed.token)], headers: [.cookie: formCookie])
            #expect(forged.status == .forbidden)
            let wrong = try await client.form("/login", [("csrf", formToken), ("token", "wrong-token-0123456789")], headers: [.cookie: formCookie])
            #expect(wrong.status == .unauthorized)
            #expect(!wrong.text.contains("wrong-token"))
            let right = try await client.form("/login", [("csrf", formToken), ("token", ServeTestbed.token)], headers: [.cookie: formCookie])
            #expect(right.status == .seeOther)
            let setCookie = right.headers[values: .setCookie].first { $0.hasPrefix(SessionStore.cookieName + "=") } ?? ""
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Strict"))
            #expect(!setCookie.contains(ServeTestbed.token))
            let session = String(setCookie.split(separator: ";")[0])
            let overview = try await client.execute(uri: "/", method: .get, headers: [.cookie: session])
            #expect(overview.status == .ok)
            #expect(overview.text.contains("Sources"))
        }
    }

    @Test("a signed-in form post without the session's CSRF token, or with another, is refused; with it, it goes through")
    func csrf() async throws {
        let bed = try await ServeTestbed(records: 20, extraLines: ["not json at all"])
        let session = bed.context.sessions.create()
        let cookie: HTTPFields = [.cookie: "\(SessionStore.cookieName)=\(session.id)"]
        let id = try #require(try await bed.context.deadLetters.entries().first?.id)
        try await bed.test { client in
            let missing = try await client.form("/dead-letters/\(id)/drop", [], headers: cookie)
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("CSRF"))
            let other = try await client.form("/dead-letters/\(id)/drop", [("csrf", bed.context.sessions.create().csrf)], headers: cookie)
            #expect(other.status == .forbidden)
            #expect(try await bed.context.deadLetters.contains(id: id))
            let good = try await client.form("/dead-letters/\(id)/drop", [("csrf", session.csrf)], headers: cookie)
            #expect(good.status == .seeOther)
            #expect(try await !bed.context.deadLetters.contains(id: id))
            // Signing out ends the session.
            _ = try await client.form("/logout", [("csrf", session.csrf)], headers: cookie)
            #expect(try await client.execute(uri: "/", method: .get, headers: cookie).status == .seeOther)
        }
    }

    @Test("every response carries the Content-Security-Policy (frame-ancestors 'none') and nosniff, errors and redirects included")
    func securityHeaders() async throws {
        let bed = try await ServeTestbed(records: 10)
        try await bed.test { client in
            for (uri, headers) in [("/healthz", HTTPFields()), ("/api/v1/stats", ServeTestbed.bearer), ("/api/v1/stats", [:]), ("/", [:]),
                                   ("/login", [:]), ("/api/v1/dead-letters/zz", ServeTestbed.bearer), ("/metrics", [:])] {
                let response = try await client.execute(uri: uri, method: .get, headers: headers)
                let policy = response.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("frame-ancestors 'none'"), "\(uri)")
                #expect(policy.contains("default-src 'none'"), "\(uri)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
            }
        }
    }

    @Test("a token shorter than 16 characters, or with spaces, is refused; a non-loopback address needs a token")
    func tokens() throws {
        #expect(throws: ServeError.self) { try ServeToken("short", origin: "x") }
        #expect(throws: ServeError.self) { try ServeToken("has spaces in it 0123456789", origin: "x") }
        let token = try ServeToken("0123456789abcdef", origin: "x")
        #expect(token.matches("0123456789abcdef".utf8))
        #expect(!token.matches("0123456789abcdeg".utf8))
        #expect(!token.matches("0123456789abcdef0".utf8))
        #expect(!"\(token)".contains("0123456789abcdef"))
        let folder = TemporaryFolderForTokens()
        defer { folder.remove() }
        #expect(throws: ServeError.self) {
            try ServeToken.resolve(flagFile: nil, environment: [:], configuredFile: nil, listen: ListenAddress("0.0.0.0:8080")!, stateFolder: folder.path)
        }
        // On loopback, a token is made and kept owner-only in the state folder, and the next start reads the same.
        let made = try ServeToken.resolve(flagFile: nil, environment: [:], configuredFile: nil, listen: ListenAddress("127.0.0.1:0")!, stateFolder: folder.path)
        let text = try String(contentsOfFile: folder.path + "/serve-token", encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(made.matches(text.utf8))
        let mode = try FileManager.default.attributesOfItem(atPath: folder.path + "/serve-token")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try ServeToken.resolve(flagFile: nil, environment: [:], configuredFile: nil, listen: ListenAddress("127.0.0.1:0")!, stateFolder: folder.path)
        #expect(again.matches(text.utf8))
        let fromEnvironment = try ServeToken.resolve(
            flagFile: nil, environment: ["ARCHIVER_SERVE_TOKEN": "from-the-environment-0123"], configuredFile: nil,
            listen: ListenAddress("0.0.0.0:1")!, stateFolder: folder.path)
        #expect(fromEnvironment.matches("from-the-environment-0123".utf8))
    }

    /// The value of a hidden input in a page.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// A folder for the token tests (no archive needed).
struct TemporaryFolderForTokens {
    let path = NSTemporaryDirectory() + "archiver-token-\(UUID().uuidString.prefix(8))"
    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
