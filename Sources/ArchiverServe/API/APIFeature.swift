import Foundation
import HTTPTypes
import Hummingbird
import JSONToolkit

/// One feature's part of the HTTP API: its routes under `/api/v1`, their OpenAPI description, and its member of
/// `GET /api/v1/stats`.
///
/// A feature is one file holding one type that conforms, listed once in ``APIFeatures/all``. The OpenAPI document is
/// put together from the features, and a test checks that every route a feature adds is described and every path
/// described is served.
protocol APIFeature: Sendable {
    /// Adds the feature's routes (paths relative to `/api/v1`, with `{name}` for a path parameter).
    func addRoutes(to routes: APIRoutes)
    /// The feature's OpenAPI paths (relative to `/api/v1`) and components, as JSON text:
    /// `{"paths": {…}, "schemas": {…}}`, and optionally `"parameters"` and `"requestBodies"`. Components are referred
    /// to as `#/components/schemas/<name>` (`parameters`, `requestBodies`).
    var openAPI: String { get }
    /// The feature's member of `GET /api/v1/stats`, if it has one.
    var stats: StatsMember? { get }
}

/// A member of `GET /api/v1/stats`: its name, the schema of its value, and how to compute it.
struct StatsMember: Sendable {
    var name: String
    /// The component schema the value follows.
    var schema: String
    var compute: @Sendable (ServeContext) async throws -> JSONValue
}

/// The API's features, in the order their members appear in `/stats` and their paths in the OpenAPI document.
/// A new feature (the deletion queue, coordinations, erasures) is one file with one type and one line here.
enum APIFeatures {
    static let all: [any APIFeature] = [
        SourcesAPI(),
        QueueAPI(),
        CoordinationsAPI(),
        ErasuresAPI(),
        DeadLettersAPI(),
        RecordsAPI(),
        RestoreAPI(),
    ]
}

/// The `/api/v1` routes as features add them: each is registered with the router and remembered (method and
/// OpenAPI-style path), so the OpenAPI document can be checked against what is served.
final class APIRoutes: @unchecked Sendable {
    typealias Handler = @Sendable (Request, ServeRequestContext, ServeContext) async throws -> Response

    static let prefix = "/api/v1"
    private let router: Router<ServeRequestContext>
    let context: ServeContext
    private(set) var registered: [(method: HTTPRequest.Method, path: String)] = []

    init(router: Router<ServeRequestContext>, context: ServeContext) {
        self.router = router
        self.context = context
    }

    /// Serves `method path` (`/dead-letters/{id}`) with `handler`.
    func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        registered.append((method, path))
        let context = self.context
        router.on(RouterPath(Self.prefix + Self.routerPath(path)), method: method) { request, requestContext in
            try await handler(request, requestContext, context)
        }
    }

    /// `/dead-letters/{id}` as Hummingbird writes it: `/dead-letters/:id`.
    static func routerPath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }.joined(separator: "/")
    }
}

extension ServeRequestContext {
    /// A path parameter the route declares.
    func pathParameter(_ name: String) throws -> String {
        guard let value = parameters.get(name), !value.isEmpty else { throw APIError.badRequest("the path names no \(name)", field: name) }
        return value
    }
}

extension JSONValue {
    /// A date as ISO 8601 (UTC, whole seconds), or null.
    static func date(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(ISO8601DateFormatter().string(from: date))
    }

    /// A number of seconds (three decimals), or null.
    static func seconds(_ value: Double?) -> JSONValue {
        guard let value, value.isFinite else { return .null }
        return .number(String(format: "%.3f", value))
    }

    static func int(_ value: Int64?) -> JSONValue {
        guard let value else { return .null }
        return .number(String(value))
    }

    /// JSON text written into a feature's source (its OpenAPI fragment): parsed, or a crash that names the feature at start.
    static func literal(_ text: String, _ what: String) -> JSONValue {
        do {
            return try JSONValue.parse(text)
        } catch {
            preconditionFailure("the OpenAPI text of \(what) is not JSON: \(error)")
        }
    }
}
