import ArchiverCore
import Foundation
import Hummingbird

/// Erasure jobs: counts per state and objects erased on the overview; a list by state with each job's progress; one
/// job with its counts and, once finished, its receipt. Jobs hold the subject's HMAC, never the subject.
struct ErasuresSection: PageSection {
    var navigation: PageNavigation? { PageNavigation(title: "Erasures", path: "/erasures") }

    /// Jobs shown on the list page.
    static let pageSize = 200

    func overview(_ page: PageRequest) async throws -> String? {
        let store = ErasuresAPI.store(page.context)
        let counts = try store.stateCounts()
        return page.render("erasures-overview", [
            "total": counts.values.reduce(0, +), "erased": try store.objectsErased(),
            "states": ErasureJobState.allCases.compactMap { state -> [String: Any]? in
                let count = counts[state] ?? 0
                guard count > 0 || [.queued, .running].contains(state) else { return nil }
                return ["state": state.rawValue, "count": count, "link": "/erasures?state=\(state.rawValue)"]
            },
        ])
    }

    func addRoutes(to routes: PageRoutes) {
        routes.get("/erasures") { request, _, page in
            let query = try QueryParameters(request, allowed: ["state"])
            let state = try query.choice("state", ErasureJobState.allCases.map(\.rawValue)).flatMap(ErasureJobState.init(rawValue:))
            let (jobs, more) = try ErasuresAPI.list(page.context, state: state, limit: Self.pageSize)
            let counts = try ErasuresAPI.store(page.context).stateCounts()
            let body = page.render("erasures-list", [
                "states": ErasureJobState.allCases.map { ["state": $0.rawValue, "count": counts[$0] ?? 0, "selected": $0 == state] as [String: Any] },
                "shown": jobs.count, "more": more, "hasEntries": !jobs.isEmpty,
                "entries": try jobs.map { try Self.row($0, left: ErasuresAPI.left(page.context, $0)) },
            ])
            return page.page(title: "Erasures", body: body)
        }
        routes.get("/erasures/:job") { request, requestContext, page in
            _ = try QueryParameters(request, allowed: [])
            let job = try ErasuresAPI.store(page.context).job(try requestContext.pathParameter("job"))
            var data = Self.row(job, left: try ErasuresAPI.left(page.context, job))
            data["started"] = job.startedAt.map(QueueTime.text) as Any
            data["finished"] = job.finishedAt.map(QueueTime.text) as Any
            data["error"] = job.error as Any
            data["counts"] = job.counts.sorted { $0.key < $1.key }.map { ["name": $0.key, "count": $0.value] as [String: Any] }
            data["receipt"] = (job.state.isFinished ? try? ReceiptBook(stateFolder: page.context.parts.stateFolder).text(job.id) : nil) as Any
            return page.page(title: "Erasure \(job.id)", body: page.render("erasure", data))
        }
    }

    static func row(_ job: ErasureJob, left: Int?) -> [String: Any] {
        let progress = ErasuresAPI.progress(job)
        return [
            "id": job.id, "link": "/erasures/\(job.id)", "state": job.state.rawValue, "subject": String(job.subjectHMAC.prefix(16)),
            "requested": QueueTime.text(job.requestedAt), "notBefore": QueueTime.text(job.notBefore),
            "erased": progress.erased, "failed": progress.failed, "left": left.map(String.init) ?? "–",
        ]
    }

    var templates: [String: String] {
        [
            "erasures-overview": """
                <section class="card" id="erasures">
                <h2><a href="/erasures">Erasures</a></h2>
                <ul class="counts"><li><strong id="erasures-total">{{total}}</strong>jobs</li>
                {{#states}}<li><strong id="erasures-count-{{state}}">{{count}}</strong><a href="{{link}}">{{state}}</a></li>{{/states}}
                <li><strong id="erasures-objects">{{erased}}</strong>objects erased</li></ul>
                </section>
                """,
            "erasures-list": """
                <form class="filters" method="get" action="/erasures">
                <label>State <select name="state"><option value="">any</option>
                {{#states}}<option value="{{state}}"{{#selected}} selected{{/selected}}>{{state}} ({{count}})</option>{{/states}}
                </select></label>
                <button type="submit" class="secondary">Filter</button>
                </form>
                <p class="muted">{{shown}} jobs shown, newest first{{#more}} (more match: choose a state){{/more}}.</p>
                {{#hasEntries}}
                <table id="erasures-table">
                <thead><tr><th>Job</th><th>State</th><th>Subject (HMAC)</th><th>Requested</th><th>Not before</th><th class="number">Erased</th><th class="number">Failed</th><th class="number">Left</th></tr></thead>
                <tbody>
                {{#entries}}
                <tr id="erasure-{{id}}"><td><a href="{{link}}"><code>{{id}}</code></a></td><td>{{state}}</td><td><code>{{subject}}</code></td>
                <td>{{requested}}</td><td>{{notBefore}}</td><td class="number">{{erased}}</td><td class="number">{{failed}}</td><td class="number">{{left}}</td></tr>
                {{/entries}}
                </tbody>
                </table>
                {{/hasEntries}}
                {{^hasEntries}}<p class="muted">No erasure jobs.</p>{{/hasEntries}}
                """,
            "erasure": """
                <table>
                <tr><th>Job</th><td><code>{{id}}</code></td></tr>
                <tr><th>State</th><td id="erasure-state">{{state}}</td></tr>
                <tr><th>Subject (HMAC)</th><td><code>{{subject}}</code>…</td></tr>
                <tr><th>Requested</th><td>{{requested}}; not before {{notBefore}}</td></tr>
                {{#started}}<tr><th>Started</th><td>{{started}}</td></tr>{{/started}}
                {{#finished}}<tr><th>Finished</th><td>{{finished}}</td></tr>{{/finished}}
                <tr><th>Progress</th><td id="erasure-progress">{{erased}} erased, {{failed}} failed, {{left}} left</td></tr>
                {{#error}}<tr><th>Error</th><td>{{error}}</td></tr>{{/error}}
                </table>
                <h2>Counts</h2>
                <table id="erasure-counts"><tbody>{{#counts}}<tr><th><code>{{name}}</code></th><td class="number">{{count}}</td></tr>{{/counts}}</tbody></table>
                {{#receipt}}<h2>Receipt</h2><pre id="erasure-receipt">{{receipt}}</pre>{{/receipt}}
                """,
        ]
    }
}
