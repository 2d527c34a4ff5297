import Hummingbird

/// The routes of `archiver serve`: the middleware every request passes (log and metrics, security headers, errors,
/// authentication), the open endpoints, the API's features, the sign-in page and the page's sections.
enum ServeRouter {
    static func build(context: ServeContext, features: [any APIFeature] = APIFeatures.all, sections: [any PageSection] = PageSections.all) throws
        -> (router: Router<ServeRequestContext>, api: APIRoutes)
    {
        let renderer = try PageRenderer(sections: sections)
        let router = Router(context: ServeRequestContext.self)
        // Outermost first: each wraps the ones added after it (and every route, which is added after them all).
        router.add(middleware: RequestLogMiddleware(logger: context.logger))
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ErrorMiddleware(logger: context.logger, page: renderer))
        router.add(middleware: AuthMiddleware(token: context.settings.token, sessions: context.sessions))
        let api = APIRoutes(router: router, context: context)
        OpenEndpoints.add(to: router, routes: api, context: context, features: features)
        for feature in features { feature.addRoutes(to: api) }
        SignInPage.add(to: router, context: context, renderer: renderer)
        let pages = PageRoutes(router: router, context: context, renderer: renderer)
        OverviewPage.add(to: pages, sections: sections)
        for section in sections { section.addRoutes(to: pages) }
        return (router, api)
    }
}
