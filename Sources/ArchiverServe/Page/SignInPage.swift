import Foundation
import Logging
import Hummingbird

/// Signing in to the page with the service's token, and out. The sign-in form carries a one-time token that must match
/// a cookie set with the form (so another site cannot post it); a good token starts a session whose id is an HttpOnly,
/// SameSite=Strict cookie. Nothing of the token is kept in the session or the cookie.
enum SignInPage {
    static func add(to router: Router<ServeRequestContext>, context: ServeContext, renderer: PageRenderer) {
        router.get("/login") { request, requestContext in
            if requestContext.session != nil { return Response.seeOther("/") }
            return form(renderer: renderer, context: context, problem: nil, reusing: request.cookies[SessionStore.signInCookieName]?.value)
        }
        router.post("/login") { request, requestContext in
            var request = request
            let fields = try await FormBody.read(&request, context: requestContext)
            guard let expected = request.cookies[SessionStore.signInCookieName]?.value, let given = fields["csrf"],
                SessionStore.constantTimeEqual(expected, given)
            else {
                return form(renderer: renderer, context: context, problem: "The sign-in form had expired. Enter the token again.", status: .forbidden)
            }
            guard let token = fields["token"], !token.isEmpty, context.settings.token.matches(token.utf8) else {
                context.logger.notice("a page sign-in was refused (wrong token)")
                return form(renderer: renderer, context: context, problem: "That is not the token archiver serve was given.", status: .unauthorized)
            }
            let session = context.sessions.create()
            var response = Response.seeOther("/")
            response.setCookie(cookie(SessionStore.cookieName, session.id, maxAge: Int(context.settings.sessionLifetime), context: context))
            response.setCookie(cookie(SessionStore.signInCookieName, "", maxAge: 0, context: context))
            context.logger.notice("signed in to the page")
            return response
        }
        router.post("/logout") { request, requestContext in
            if let session = requestContext.session { context.sessions.end(session.id) }
            var response = Response.seeOther("/login")
            response.setCookie(cookie(SessionStore.cookieName, "", maxAge: 0, context: context))
            return response
        }
        // Browsers ask for it by themselves; there is none.
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
        router.get("/static/style.css") { _, _ in
            var response = Response.text(StyleSheet.text, contentType: "text/css; charset=utf-8")
            response.headers[.cacheControl] = "max-age=3600"
            return response
        }
    }

    /// The sign-in form, with its form token in the form and in a cookie: the one the browser holds, so that two tabs
    /// (or a request the browser makes by itself) do not spoil each other's form, or a fresh one.
    static func form(renderer: PageRenderer, context: ServeContext, problem: String?, status: HTTPResponse.Status = .ok, reusing: String? = nil) -> Response {
        let formToken = reusing.flatMap { $0.count == 64 && $0.allSatisfy(\.isHexDigit) ? $0 : nil } ?? SessionStore.randomToken()
        let body = renderer.render("sign-in", ["csrf": formToken, "problem": problem as Any])
        var response = renderer.page(title: "Sign in", body: body, session: nil, current: "/login", notice: nil, status: status)
        response.setCookie(cookie(SessionStore.signInCookieName, formToken, maxAge: 600, context: context))
        return response
    }

    static func cookie(_ name: String, _ value: String, maxAge: Int, context: ServeContext) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: context.settings.secureCookie, httpOnly: true, sameSite: .strict)
    }

    static let template = """
        <div class="sign-in">
        <p class="muted">Enter the token <code>archiver serve</code> was given (its token file, or ARCHIVER_SERVE_TOKEN).</p>
        {{#problem}}<p class="error" id="problem">{{problem}}</p>{{/problem}}
        <form method="post" action="/login">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>Token <input type="password" name="token" id="token" autocomplete="current-password" required autofocus></label>
        <button type="submit" id="sign-in">Sign in</button>
        </form>
        </div>
        """
}
