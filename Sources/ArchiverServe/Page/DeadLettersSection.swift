import ArchiverCore
import Foundation
import Hummingbird

/// Dead letters: counts on the overview; a list filtered by code and source with retry and drop; one entry with its
/// reason and its raw record (escaped: a record holding `<script>` shows as text).
struct DeadLettersSection: PageSection {
    var navigation: PageNavigation? { PageNavigation(title: "Dead letters", path: "/dead-letters") }

    func overview(_ page: PageRequest) async throws -> String? {
        let total = try DeadLettersAPI.count(page.context)
        let (entries, damaged) = total > 0 ? try await page.context.deadLetters.scan() : ([], [])
        var byCode: [String: Int] = [:]
        for entry in entries { byCode[entry.code, default: 0] += 1 }
        return page.render("dead-letters-overview", [
            "total": total, "damaged": damaged.count, "hasDamaged": !damaged.isEmpty,
            "codes": byCode.sorted { $0.key < $1.key }.map { ["code": $0.key, "count": $0.value, "link": "/dead-letters?code=" + PageLink.encode($0.key)] },
        ])
    }

    func addRoutes(to routes: PageRoutes) {
        routes.get("/dead-letters") { request, _, page in
            let query = try QueryParameters(request, allowed: ["code", "source", "offset"])
            let code = query.string("code"), source = query.string("source")
            let offset = try query.int("offset", in: 0...Int(Int32.max), default: 0)
            let list = try await DeadLettersAPI.list(page.context, source: source, code: code, limit: 100, offset: offset)
            let body = page.render("dead-letters-list", [
                "code": code ?? "", "source": source ?? "", "total": list.total, "hasEntries": !list.entries.isEmpty,
                "entries": list.entries.map { entry -> [String: Any] in
                    ["id": entry.id, "source": entry.source, "position": entry.position, "code": entry.code, "reason": entry.reason,
                     "attempts": entry.attempts, "lastFailedAt": entry.lastFailedAt, "link": "/dead-letters/\(entry.id)"]
                },
                "damaged": list.damaged.map { ["id": $0.id, "problem": $0.problem] }, "hasDamaged": !list.damaged.isEmpty,
                "next": (list.total > offset + list.entries.count
                    ? "/dead-letters?offset=\(offset + list.entries.count)" + (code.map { "&code=" + PageLink.encode($0) } ?? "")
                        + (source.map { "&source=" + PageLink.encode($0) } ?? "") : nil) as Any,
            ])
            return page.page(title: "Dead letters", body: body)
        }
        routes.get("/dead-letters/:id") { request, requestContext, page in
            _ = try QueryParameters(request, allowed: [])
            let entry = try await page.context.deadLetters.entry(id: try requestContext.pathParameter("id"))
            let body = page.render("dead-letter", [
                "id": entry.id, "source": entry.source, "partition": entry.partition, "position": entry.position, "code": entry.code,
                "reason": entry.reason, "attempts": entry.attempts, "firstFailedAt": entry.firstFailedAt, "lastFailedAt": entry.lastFailedAt,
                "file": entry.file.map { "\($0)" } as Any, "cut": entry.isCut,
                "recordBytes": PageFormat.bytes(entry.recordBytes ?? Int64(entry.raw.count)),
                "raw": PageFormat.visible(entry.raw),
            ])
            return page.page(title: "Dead letter \(entry.id)", body: body)
        }
        routes.post("/dead-letters/:id/retry") { _, requestContext, page in
            let id = try requestContext.pathParameter("id")
            _ = try await page.context.deadLetters.entry(id: id)
            let summary = try await DeadLettersAPI.retry(page.context, ids: [id])
            if summary.archived == 1 { return page.redirect("/dead-letters", notice: "Dead letter \(id) was archived.") }
            if summary.passedOver == 1 { return page.redirect("/dead-letters", notice: "Dead letter \(id) is not a deletion; it was passed over.") }
            return page.redirect("/dead-letters/\(id)", notice: "Dead letter \(id) still fails; its reason is updated below.")
        }
        routes.post("/dead-letters/:id/drop") { _, requestContext, page in
            let id = try requestContext.pathParameter("id")
            try await DeadLettersAPI.drop(page.context, id: id)
            return page.redirect("/dead-letters", notice: "Dead letter \(id) was dropped.")
        }
        routes.post("/dead-letters/retry") { _, _, page in
            let summary = try await DeadLettersAPI.retry(page.context, ids: [])
            return page.redirect(
                "/dead-letters",
                notice: "Retried \(summary.tried): \(summary.archived) archived, \(summary.passedOver) passed over, \(summary.stillFailing) still failing.")
        }
    }

    var templates: [String: String] {
        [
            "dead-letters-overview": """
                <section class="card" id="dead-letters">
                <h2><a href="/dead-letters">Dead letters</a></h2>
                <ul class="counts"><li><strong id="dead-letter-count">{{total}}</strong>in the folder</li>
                {{#codes}}<li><strong>{{count}}</strong><a href="{{link}}">{{code}}</a></li>{{/codes}}
                {{#hasDamaged}}<li><strong>{{damaged}}</strong>damaged entry files</li>{{/hasDamaged}}</ul>
                </section>
                """,
            "dead-letters-list": """
                <form class="filters" method="get" action="/dead-letters">
                <label>Code <input name="code" value="{{code}}" placeholder="malformed-json"></label>
                <label>Source <input name="source" value="{{source}}" placeholder="jsonl:/var/feed.jsonl"></label>
                <button type="submit" class="secondary">Filter</button>
                </form>
                <p class="muted">{{total}} entries.</p>
                {{#hasEntries}}
                <form method="post" action="/dead-letters/retry"><input type="hidden" name="csrf" value="{{csrf}}">
                <button type="submit" id="retry-all" class="secondary">Retry all</button></form>
                <table id="dead-letter-table">
                <thead><tr><th>Id</th><th>Code</th><th>Reason</th><th>Source · position</th><th class="number">Attempts</th><th>Last failed</th><th></th></tr></thead>
                <tbody>
                {{#entries}}
                <tr id="dead-letter-{{id}}"><td><a href="{{link}}"><code>{{id}}</code></a></td><td>{{code}}</td><td>{{reason}}</td>
                <td><code>{{source}}</code><br><span class="muted">{{position}}</span></td><td class="number">{{attempts}}</td><td>{{lastFailedAt}}</td>
                <td><form class="inline" method="post" action="/dead-letters/{{id}}/retry"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="secondary" id="retry-{{id}}">Retry</button></form>
                <form class="inline" method="post" action="/dead-letters/{{id}}/drop"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger" id="drop-{{id}}">Drop</button></form></td></tr>
                {{/entries}}
                </tbody>
                </table>
                {{/hasEntries}}
                {{#next}}<p><a href="{{next}}">Next page</a></p>{{/next}}
                {{#hasDamaged}}<h2>Damaged entry files</h2><ul>{{#damaged}}<li><code>{{id}}</code>: {{problem}}</li>{{/damaged}}</ul>{{/hasDamaged}}
                """,
            "dead-letter": """
                <table>
                <tr><th>Code</th><td>{{code}}</td></tr>
                <tr><th>Reason</th><td id="reason">{{reason}}</td></tr>
                <tr><th>Source</th><td><code>{{source}}</code> {{partition}}</td></tr>
                <tr><th>Position</th><td>{{position}}</td></tr>
                {{#file}}<tr><th>File</th><td><code>{{file}}</code></td></tr>{{/file}}
                <tr><th>Attempts</th><td>{{attempts}} (first {{firstFailedAt}}, last {{lastFailedAt}})</td></tr>
                <tr><th>Record</th><td>{{recordBytes}}{{#cut}} (only its first KiB was kept){{/cut}}</td></tr>
                </table>
                <h2>Raw record</h2>
                <pre id="raw">{{raw}}</pre>
                <p>
                <form class="inline" method="post" action="/dead-letters/{{id}}/retry"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="retry">Retry</button></form>
                <form class="inline" method="post" action="/dead-letters/{{id}}/drop"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger" id="drop">Drop</button></form>
                </p>
                """,
        ]
    }
}
