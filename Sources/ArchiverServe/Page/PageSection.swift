import Foundation
import HTTPTypes
import Hummingbird

/// One feature's part of the admin page: an entry in the navigation, a part of the overview, its own pages and form
/// posts, and the Mustache templates it renders them with (every value a template shows is HTML-escaped; the one
/// unescaped value is the body the layout wraps, which a template rendered).
///
/// A section is one file holding one type that conforms, listed once in ``PageSections/all``.
protocol PageSection: Sendable {
    /// The entry in the navigation bar, if the section has a page of its own.
    var navigation: PageNavigation? { get }
    /// The section's templates, by name (names are shared by all sections: prefix them with the section's).
    var templates: [String: String] { get }
    /// The section's part of the overview page (HTML rendered with its templates), or nil.
    func overview(_ page: PageRequest) async throws -> String?
    /// Adds the section's pages and form posts.
    func addRoutes(to routes: PageRoutes)
}

/// The page's sections, in the order of the navigation bar and of the overview.
/// A new feature (the deletion queue, coordinations, erasures) is one file with one type and one line here.
enum PageSections {
    static let all: [any PageSection] = [
        SourcesSection(),
        QueueSection(),
        CoordinationsSection(),
        ErasuresSection(),
        DeadLettersSection(),
        SearchSection(),
    ]
}

/// An entry in the navigation bar.
struct PageNavigation: Sendable {
    var title: String
    var path: String
}

/// One page request as a section sees it.
struct PageRequest: Sendable {
    let context: ServeContext
    let renderer: PageRenderer
    /// The signed-in session (nil for a request with the bearer token).
    let session: PageSession?
    let path: String

    /// The CSRF token the page's forms carry ("" for a bearer request, which needs none).
    var csrf: String { session?.csrf ?? "" }

    /// A template of any section, rendered with `data` (values escaped).
    func render(_ template: String, _ data: [String: Any]) -> String {
        renderer.render(template, data.merging(["csrf": csrf]) { own, _ in own })
    }

    /// A whole page: the layout around `body`, with the notice a form post left, if any.
    func page(title: String, body: String, status: HTTPResponse.Status = .ok) -> Response {
        let notice = session.flatMap { context.sessions.takeNotice(for: $0.id) }
        return renderer.page(title: title, body: body, session: session, current: path, notice: notice, status: status)
    }

    /// After a form post: leave a notice for the next page and send the browser there.
    func redirect(_ path: String, notice: String) -> Response {
        if let session { context.sessions.leaveNotice(notice, for: session.id) }
        return .seeOther(path)
    }
}

/// The page's routes as sections add them.
final class PageRoutes: @unchecked Sendable {
    private let router: Router<ServeRequestContext>
    let context: ServeContext
    let renderer: PageRenderer

    init(router: Router<ServeRequestContext>, context: ServeContext, renderer: PageRenderer) {
        self.router = router
        self.context = context
        self.renderer = renderer
    }

    /// A page (`/dead-letters/:id` for a path parameter).
    func get(_ path: String, _ handler: @escaping @Sendable (Request, ServeRequestContext, PageRequest) async throws -> Response) {
        let (context, renderer) = (self.context, self.renderer)
        router.get(RouterPath(path)) { request, requestContext in
            try await handler(request, requestContext, PageRequest(context: context, renderer: renderer, session: requestContext.session, path: request.uri.path))
        }
    }

    /// A form post (its CSRF token already checked by the auth middleware); the handler gets the form's fields.
    func post(_ path: String, _ handler: @escaping @Sendable (FormBody, ServeRequestContext, PageRequest) async throws -> Response) {
        let (context, renderer) = (self.context, self.renderer)
        router.post(RouterPath(path)) { request, requestContext in
            var request = request
            let form = try await FormBody.read(&request, context: requestContext)
            return try await handler(form, requestContext, PageRequest(context: context, renderer: renderer, session: requestContext.session, path: request.uri.path))
        }
    }
}

/// Small formatting helpers for templates.
enum PageFormat {
    static func seconds(_ value: Double?) -> String {
        guard let value else { return "–" }
        if value < 1 { return String(format: "%.0f ms", value * 1000) }
        if value < 120 { return String(format: "%.1f s", value) }
        if value < 7200 { return String(format: "%.0f min", value / 60) }
        if value < 172_800 { return String(format: "%.1f h", value / 3600) }
        return String(format: "%.0f d", value / 86400)
    }

    static func rate(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f/s", value) : String(format: "%.1f/s", value)
    }

    static func bytes(_ value: Int64?) -> String {
        guard let value else { return "–" }
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024 && unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : String(format: "%.1f %@", amount, units[unit])
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "–" }
        return ISO8601DateFormatter().string(from: date)
    }

    /// Text shown as it is, with control characters made visible (a record may hold anything).
    static func visible(_ bytes: [UInt8]) -> String {
        var text = ""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" || scalar.value == 0x7F {
                text += String(format: "\\u%04x", scalar.value)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }
}
