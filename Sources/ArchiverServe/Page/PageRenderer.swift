import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// Renders the admin page: the sections' templates and the layout around them. Every value is HTML-escaped by
/// Mustache's `{{…}}`; the layout's `{{{body}}}` is the only triple mustache, and the body is a rendered template.
struct PageRenderer: Sendable {
    private let library: MustacheLibrary
    let navigation: [PageNavigation]

    init(sections: [any PageSection]) throws {
        var library = MustacheLibrary()
        try library.register(Self.layout, named: "layout")
        try library.register(Self.errorTemplate, named: "error")
        try library.register(SignInPage.template, named: "sign-in")
        for section in sections {
            for (name, text) in section.templates { try library.register(text, named: name) }
        }
        self.library = library
        navigation = [PageNavigation(title: "Overview", path: "/")] + sections.compactMap(\.navigation)
    }

    /// A template rendered with `data`.
    func render(_ template: String, _ data: [String: Any]) -> String {
        guard let text = library.render(Self.withoutNils(data) ?? [:], withTemplate: template) else {
            preconditionFailure("no page template named \(template)")
        }
        return text
    }

    /// The data with every nil optional taken out, at any depth: an absent key is false to a section and empty to a
    /// variable, where a boxed nil would print "nil".
    static func withoutNils(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return withoutNils(wrapped)
        }
        if let dictionary = value as? [String: Any] { return dictionary.compactMapValues { withoutNils($0) } }
        if let array = value as? [Any] { return array.compactMap { withoutNils($0) } }
        return value
    }

    /// The layout around a rendered body.
    func page(title: String, body: String, session: PageSession?, current: String, notice: String?, status: HTTPResponse.Status = .ok) -> Response {
        let signedIn = session != nil
        let html = render("layout", [
            "title": title,
            "body": body,
            "notice": notice as Any,
            "signedIn": signedIn,
            "showNavigation": current != "/login",
            "csrf": session?.csrf ?? "",
            "navigation": navigation.map { entry in
                ["title": entry.title, "path": entry.path, "current": entry.path == current || entry.path != "/" && current.hasPrefix(entry.path + "/")] as [String: Any]
            },
        ])
        return Response.text(html, contentType: "text/html; charset=utf-8", status: status)
    }

    /// An error as a page.
    func errorPage(_ error: APIError, session: PageSession?) -> Response {
        let body = render("error", ["message": error.message, "field": error.field as Any, "status": Int(error.status.code)])
        return page(title: error.status.reasonPhrase, body: body, session: session, current: "", notice: nil, status: error.status)
    }

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · archiver</title>
        <link rel="stylesheet" href="/static/style.css">
        </head>
        <body>
        <header>
        <a class="brand" href="/">archiver</a>
        {{#showNavigation}}
        <nav>{{#navigation}}<a href="{{path}}"{{#current}} aria-current="page"{{/current}}>{{title}}</a>{{/navigation}}</nav>
        {{/showNavigation}}
        {{#signedIn}}
        <form method="post" action="/logout" class="sign-out"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="sign-out">Sign out</button></form>
        {{/signedIn}}
        </header>
        <main>
        {{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
        <h1>{{title}}</h1>
        {{{body}}}
        </main>
        </body>
        </html>

        """

    static let errorTemplate = """
        <p class="error" id="error">{{message}}</p>
        {{#field}}<p class="muted">The field that is wrong: <code>{{field}}</code></p>{{/field}}
        <p><a href="/">Back to the overview</a></p>
        """
}
