import ArchiverCore
import Foundation

/// The sources on the overview: each tail's state, position, lag, rate and counts, and the last deletions archived.
struct SourcesSection: PageSection {
    var navigation: PageNavigation? { nil }

    func overview(_ page: PageRequest) async throws -> String? {
        let now = Date()
        let tails = await page.context.tailSnapshots(now: now)
        let recent = tails.flatMap { tail in tail.recent.map { (tail.name, $0) } }
            .sorted { ($0.1.deletedAt, $0.1.key) > ($1.1.deletedAt, $1.1.key) }
            .prefix(10)
        return page.render("sources-overview", [
            "sources": tails.map { tail -> [String: Any] in
                [
                    "name": tail.name, "state": tail.state.rawValue, "position": tail.position ?? "–",
                    "lag": PageFormat.seconds(tail.lagSeconds), "rate": PageFormat.rate(tail.recordsPerSecond),
                    "backlog": tail.backlog?.bytes.map { PageFormat.bytes($0) } ?? tail.backlog?.records.map { "\($0) records" } ?? "–",
                    "checkpointAge": PageFormat.seconds(tail.checkpointAge(now: now)),
                    "read": tail.totals.read, "archived": tail.totals.archived, "deadLettered": tail.totals.deadLettered,
                    "restarts": tail.restarts, "lastError": tail.lastError as Any,
                    "nextAttempt": tail.nextAttemptAt.map { PageFormat.date($0) } as Any,
                ]
            },
            "hasSources": !tails.isEmpty,
            "recent": recent.map { name, deletion -> [String: Any] in
                ["source": name, "key": deletion.key, "kind": deletion.kind.rawValue, "deletedAt": deletion.deletedAt,
                 "link": "/record?key=" + PageLink.encode(deletion.key)]
            },
            "hasRecent": !recent.isEmpty,
        ])
    }

    func addRoutes(to routes: PageRoutes) {}

    var templates: [String: String] {
        ["sources-overview": """
            <section class="card" id="sources">
            <h2>Sources</h2>
            {{^hasSources}}<p class="muted">No sources are configured (sources: in the configuration file).</p>{{/hasSources}}
            {{#hasSources}}
            <table>
            <thead><tr><th>Source</th><th>State</th><th>Position</th><th class="number">Lag</th><th class="number">Rate</th>
            <th class="number">Backlog</th><th class="number">Checkpoint age</th><th class="number">Read</th><th class="number">Archived</th>
            <th class="number">Dead-lettered</th><th class="number">Restarts</th></tr></thead>
            <tbody>
            {{#sources}}
            <tr><td><code>{{name}}</code></td><td class="state-{{state}}">{{state}}</td><td>{{position}}</td>
            <td class="number">{{lag}}</td><td class="number">{{rate}}</td><td class="number">{{backlog}}</td><td class="number">{{checkpointAge}}</td>
            <td class="number">{{read}}</td><td class="number">{{archived}}</td><td class="number">{{deadLettered}}</td><td class="number">{{restarts}}</td></tr>
            {{#lastError}}<tr><td></td><td colspan="10" class="error">Last error: {{lastError}}{{#nextAttempt}} · next attempt {{nextAttempt}}{{/nextAttempt}}</td></tr>{{/lastError}}
            {{/sources}}
            </tbody>
            </table>
            {{/hasSources}}
            </section>
            <section class="card" id="recent">
            <h2>Last deletions archived</h2>
            {{^hasRecent}}<p class="muted">None since the service started.</p>{{/hasRecent}}
            {{#hasRecent}}
            <table>
            <thead><tr><th>Deleted at</th><th>Kind</th><th>Archive key</th><th>Source</th></tr></thead>
            <tbody>
            {{#recent}}<tr><td>{{deletedAt}}</td><td>{{kind}}</td><td><a href="{{link}}"><code>{{key}}</code></a></td><td><code>{{source}}</code></td></tr>{{/recent}}
            </tbody>
            </table>
            {{/hasRecent}}
            </section>
            """]
    }
}

/// Query values in links.
enum PageLink {
    /// Percent-encodes a query value (everything but unreserved characters).
    static func encode(_ value: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
