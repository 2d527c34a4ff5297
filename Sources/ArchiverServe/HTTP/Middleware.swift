import ArchiverCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics

/// Outermost: times every request, records it in `archiver_http_request_duration_seconds` by method, route pattern
/// and status, and logs it. The log line holds the method, the route's pattern (never the path or query asked for,
/// which can hold item keys), the status and the time: no record data, no header, no token.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServeRequestContext
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - started
        let route = context.endpointPath ?? "unmatched"
        let status = response.status.code
        Metrics.Timer(
            label: MetricNames.httpRequestSeconds,
            dimensions: [("method", request.method.rawValue), ("route", route), ("status", String(status))],
            preferredDisplayUnit: .seconds
        ).recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        let level: Logger.Level = request.method == .get || request.method == .head ? .debug : .info
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        logger.log(level: level, "request", metadata: [
            "http.method": "\(request.method.rawValue)", "http.route": "\(route)", "http.status": "\(status)",
            "http.duration_ms": "\(String(format: "%.1f", milliseconds))",
        ])
        return response
    }
}

/// Every response: a Content-Security-Policy that allows only this server's stylesheet and forms (no script at all,
/// no framing), `X-Content-Type-Options: nosniff`, no referrer, no caching.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = ServeRequestContext

    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Turns every error into a response: JSON (`{"error": {"message", "field"}}`) for the API and the health endpoints,
/// an HTML page for the admin page. An error the client can do nothing about is logged whole and answered with a
/// 500 that says to look at the log.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ServeRequestContext
    let logger: Logger
    let page: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let answer: APIError
            if let known = APIError.from(error) {
                answer = known
            } else {
                logger.error("a request failed", metadata: ["http.route": "\(context.endpointPath ?? "unmatched")", "error": "\(error)"])
                answer = APIError(.internalServerError, "the request failed on the server; its log says why")
            }
            if Self.isPage(request.uri.path) {
                var response = page.errorPage(answer, session: context.session)
                response.headers.append(contentsOf: answer.headers)
                return response
            }
            return try answer.response(from: request, context: context)
        }
    }

    /// Whether a path belongs to the admin page (HTML) rather than to the API or the health endpoints (JSON).
    static func isPage(_ path: String) -> Bool {
        !(path.hasPrefix("/api/") || path == "/api" || ["/healthz", "/readyz", "/metrics"].contains(path))
    }
}

/// Who may do what: `/healthz`, `/readyz`, `/metrics` and the sign-in page are open; the API takes only
/// `Authorization: Bearer <token>`; the page takes the bearer token or a signed-in session, whose every form post must
/// carry the session's CSRF token. Unsigned page visits are sent to the sign-in page.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ServeRequestContext
    let token: ServeToken
    let sessions: SessionStore

    static let openPaths: Set<String> = ["/healthz", "/readyz", "/metrics", "/login", "/static/style.css", "/favicon.ico"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if Self.openPaths.contains(path) { return try await next(request, context) }
        var context = context
        if let header = request.headers[.authorization] {
            let prefix = "Bearer "
            guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix.lowercased(),
                token.matches(header.utf8.dropFirst(prefix.utf8.count))
            else {
                throw APIError.unauthorized("the bearer token is not right; send Authorization: Bearer <token> with the token archiver serve was given")
            }
            context.access = .bearer
            return try await next(request, context)
        }
        guard !path.hasPrefix("/api/") && path != "/api" else {
            throw APIError.unauthorized("this needs Authorization: Bearer <token> (the token archiver serve was given)")
        }
        guard let id = request.cookies[SessionStore.cookieName]?.value, let session = sessions.session(id) else {
            if request.method == .get || request.method == .head { return .seeOther("/login") }
            throw APIError.unauthorized("sign in first (your session may have ended)")
        }
        context.access = .session(session)
        if request.method != .get && request.method != .head {
            var request = request
            let form = try await FormBody.read(&request, context: context)
            guard let given = form["csrf"], SessionStore.constantTimeEqual(given, session.csrf) else {
                throw APIError.forbidden("the form's CSRF token is missing or does not match your session; reload the page and try again", field: "csrf")
            }
            return try await next(request, context)
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
}
