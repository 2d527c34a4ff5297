import Hummingbird

/// `/`: every section's part of the overview, in the sections' order.
enum OverviewPage {
    static func add(to routes: PageRoutes, sections: [any PageSection]) {
        routes.get("/") { request, _, page in
            _ = try QueryParameters(request, allowed: [])
            var parts: [String] = []
            for section in sections {
                if let part = try await section.overview(page) { parts.append(part) }
            }
            return page.page(title: "Overview", body: parts.joined(separator: "\n"))
        }
    }
}
