import ArchiverCore
import Foundation
import Hummingbird
import JSONToolkit

/// Search the archive by item key (and month), look at an archived version, and restore it: first a dry run that
/// shows what will be written and whether the target already holds the item, then, confirmed, for real.
struct SearchSection: PageSection {
    var navigation: PageNavigation? { PageNavigation(title: "Search", path: "/search") }

    func overview(_ page: PageRequest) async throws -> String? {
        page.render("search-form", ["item": "", "month": ""])
    }

    func addRoutes(to routes: PageRoutes) {
        routes.get("/search") { request, _, page in
            let query = try QueryParameters(request, allowed: ["item", "month", "kind"])
            let item = query.string("item"), month = query.string("month")
            let kind = try query.choice("kind", ["manual", "ttl"]).flatMap(DeletionKind.init(rawValue:))
            var data: [String: Any] = ["item": item ?? "", "month": month ?? "", "searched": item != nil]
            if let item {
                let found = try await RecordsAPI.find(page.context, item: item, month: month, kind: kind, limit: 200)
                data["records"] = found.records.map { record -> [String: Any] in
                    ["key": record.key, "deletedAt": record.deletedAt, "kind": record.kind.rawValue, "itemKey": record.item,
                     "size": PageFormat.bytes(record.size), "link": "/record?key=" + PageLink.encode(record.key)]
                }
                data["count"] = found.records.count
                data["truncated"] = found.truncated
            }
            let body = page.render("search-form", data) + page.render("search-results", data)
            return page.page(title: "Search the archive", body: body)
        }
        routes.get("/record") { request, _, page in
            let query = try QueryParameters(request, allowed: ["key"])
            let key = try query.required("key", "an archive key")
            let record = try await RecordsAPI.read(page.context, key: key)
            let body = page.render("record", [
                "key": key, "deletedAt": record.key.time.description, "kind": record.key.kind.rawValue, "itemKey": record.key.itemKey,
                "item": record.item.item.dynamoJSON.formatted(indent: 2),
                "targets": Self.targets(page.context, selected: nil), "hasTargets": !page.context.parts.restoreTargets.isEmpty,
            ])
            return page.page(title: "Archived record", body: body)
        }
        routes.post("/restore/preview") { form, _, page in
            let (key, target, overwrite) = try Self.restoreFields(form)
            let result = try await RestoreAPI.restore(page.context, key: key, target: target, dryRun: true, overwrite: overwrite)
            let body = page.render("restore-preview", [
                "key": key, "target": target, "overwrite": overwrite,
                "spec": page.context.parts.restoreTargets.first { $0.name == target }?.spec ?? "",
                "item": result.item.item.dynamoJSON.formatted(indent: 2),
                "ok": result.outcome == .restored, "problem": RestoreAPI.message(result.outcome) as Any,
                "exists": { if case .exists = result.outcome { return true } else { return false } }(),
            ])
            return page.page(title: "Restore: what will be written", body: body)
        }
        routes.post("/restore") { form, _, page in
            let (key, target, overwrite) = try Self.restoreFields(form)
            let result = try await RestoreAPI.restore(page.context, key: key, target: target, dryRun: false, overwrite: overwrite)
            let back = "/record?key=" + PageLink.encode(key)
            switch result.outcome {
            case .restored: return page.redirect(back, notice: "Restored into \(target).")
            case .exists(let message): return page.redirect(back, notice: "Not restored: \(message)")
            case .failed(let message): return page.redirect(back, notice: "Not restored: \(message)")
            }
        }
    }

    static func restoreFields(_ form: FormBody) throws -> (String, String, Bool) {
        guard let key = form["key"], !key.isEmpty else { throw APIError.badRequest("the form names no archive key", field: "key") }
        guard let target = form["target"], !target.isEmpty else { throw APIError.badRequest("choose a restore target", field: "target") }
        return (key, target, form["overwrite"] == "on")
    }

    static func targets(_ context: ServeContext, selected: String?) -> [[String: Any]] {
        context.parts.restoreTargets.map { ["name": $0.name, "spec": $0.spec, "selected": $0.name == selected] }
    }

    var templates: [String: String] {
        [
            "search-form": """
                <section class="card" id="search">
                <h2>Find an item's deletions</h2>
                <form class="search" method="get" action="/search">
                <label>Item key <input name="item" id="item" value="{{item}}" placeholder="USER#123_PROFILE or USER#123_*" required></label>
                <label>Month <input name="month" id="month" value="{{month}}" placeholder="YYYY-MM (optional)"></label>
                <button type="submit" id="search-button">Search</button>
                </form>
                </section>
                """,
            "search-results": """
                {{#searched}}
                <p class="muted" id="result-count">{{count}} archived versions{{#truncated}} (more match: narrow the search){{/truncated}}.</p>
                <table id="results">
                <thead><tr><th>Deleted at</th><th>Kind</th><th>Item key</th><th class="number">Size</th><th>Archive key</th></tr></thead>
                <tbody>
                {{#records}}<tr><td>{{deletedAt}}</td><td>{{kind}}</td><td><code>{{itemKey}}</code></td><td class="number">{{size}}</td>
                <td><a href="{{link}}" class="record-link"><code>{{key}}</code></a></td></tr>{{/records}}
                </tbody>
                </table>
                {{/searched}}
                """,
            "record": """
                <table>
                <tr><th>Archive key</th><td><code id="record-key">{{key}}</code></td></tr>
                <tr><th>Item key</th><td><code>{{itemKey}}</code></td></tr>
                <tr><th>Deleted at</th><td>{{deletedAt}} ({{kind}})</td></tr>
                </table>
                <h2>The item (DynamoDB JSON)</h2>
                <pre id="item">{{item}}</pre>
                <h2>Restore</h2>
                {{^hasTargets}}<p class="muted">No restore targets are configured (serve.restore-targets in the configuration file).</p>{{/hasTargets}}
                {{#hasTargets}}
                <form class="search" method="post" action="/restore/preview">
                <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="key" value="{{key}}">
                <label>Into <select name="target" id="target">{{#targets}}<option value="{{name}}"{{#selected}} selected{{/selected}}>{{name}} ({{spec}})</option>{{/targets}}</select></label>
                <label class="check"><input type="checkbox" name="overwrite" id="overwrite"> replace an item with the same key</label>
                <button type="submit" id="preview">Show what will be written</button>
                </form>
                {{/hasTargets}}
                """,
            "restore-preview": """
                <p>Restoring <code>{{key}}</code> into <strong>{{target}}</strong> (<code>{{spec}}</code>){{#overwrite}}, replacing an item with the same key{{/overwrite}}, writes this item:</p>
                <pre id="preview-item">{{item}}</pre>
                {{#ok}}<p class="notice" id="dry-run">A dry run found nothing in the way.</p>{{/ok}}
                {{#problem}}<p class="error" id="dry-run">{{problem}}</p>{{/problem}}
                {{#ok}}
                <form method="post" action="/restore">
                <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="key" value="{{key}}"><input type="hidden" name="target" value="{{target}}">
                {{#overwrite}}<input type="hidden" name="overwrite" value="on">{{/overwrite}}
                <button type="submit" id="confirm-restore">Restore it</button>
                </form>
                {{/ok}}
                {{#exists}}<p class="muted">To replace it, go back and tick "replace an item with the same key".</p>{{/exists}}
                """,
        ]
    }
}
