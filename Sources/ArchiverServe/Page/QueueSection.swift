import ArchiverCore
import Foundation
import Hummingbird
import JSONToolkit

/// The deletion queue: counts per state on the overview; a list filtered by state and rule with retry / cancel / drop
/// (one entry, or every entry the filter selects) and a batch run now; one entry with its target and error history.
/// Targets, errors and record keys come from records: every one is escaped.
struct QueueSection: PageSection {
    var navigation: PageNavigation? { PageNavigation(title: "Deletion queue", path: "/queue") }

    /// Entries shown on the list page.
    static let pageSize = 200

    func overview(_ page: PageRequest) async throws -> String? {
        let stats = try QueueAPI.store(page.context).stats()
        return page.render("queue-overview", [
            "total": stats.total,
            "states": QueueState.allCases.compactMap { state -> [String: Any]? in
                let count = stats.counts[state] ?? 0
                // The states a person looks at always; the others when they hold entries.
                guard count > 0 || [.available, .retryable, .parked].contains(state) else { return nil }
                return ["state": state.rawValue, "count": count, "link": "/queue?state=\(state.rawValue)"]
            },
            "oldest": stats.oldestWaiting.map { PageFormat.seconds(max(0, Date().timeIntervalSince($0))) } as Any,
        ])
    }

    func addRoutes(to routes: PageRoutes) {
        routes.get("/queue") { request, _, page in
            let query = try QueryParameters(request, allowed: ["state", "rule"])
            let state = try query.choice("state", QueueState.allCases.map(\.rawValue)).flatMap(QueueState.init(rawValue:))
            let rule = query.string("rule")
            let filter = QueueFilter(states: state.map { [$0] } ?? [], rule: rule)
            let (entries, more) = try QueueAPI.list(page.context, filter: filter, limit: Self.pageSize)
            let stats = try QueueAPI.store(page.context).stats()
            let body = page.render("queue-list", [
                "rule": rule ?? "", "state": state?.rawValue ?? "", "filtered": !filter.isEmpty,
                "states": QueueState.allCases.map { ["state": $0.rawValue, "count": stats.counts[$0] ?? 0, "selected": $0 == state] as [String: Any] },
                "shown": entries.count, "more": more, "hasEntries": !entries.isEmpty,
                "runs": page.context.parts.queueRunner != nil,
                "batchSize": page.context.parts.queueRunner.map { min($0.defaultBatchSize, QueueAPI.largestBatch) } ?? 100,
                "entries": entries.map(Self.row),
            ])
            return page.page(title: "Deletion queue", body: body)
        }
        routes.get("/queue/entries/:id") { request, requestContext, page in
            _ = try QueryParameters(request, allowed: [])
            let entry = try QueueAPI.entry(page.context, id: try requestContext.pathParameter("id"))
            var data = Self.row(entry)
            data["target"] = entry.target.serialized
            data["outcome"] = entry.outcome.map(\.serialized) as Any
            data["source"] = entry.source
            data["archiveKey"] = entry.archiveKey
            data["created"] = QueueTime.text(entry.createdAt)
            data["completed"] = entry.completedAt.map(QueueTime.text) as Any
            data["leased"] = entry.leasedUntil.map { "until \(QueueTime.text($0)) by \(entry.leaseOwner ?? "a worker")" } as Any
            data["hold"] = entry.hold as Any
            data["errors"] = entry.errors.map { error -> [String: Any] in
                ["at": error.at, "attempt": error.attempt, "code": error.code, "error": error.error, "http": error.httpStatus.map(String.init) ?? ""]
            }
            data["hasErrors"] = !entry.errors.isEmpty
            return page.page(title: "Queue entry \(entry.id.prefix(16))", body: page.render("queue-entry", data))
        }
        for change in QueueAPI.Change.allCases {
            routes.post("/queue/entries/:id/\(change.rawValue)") { _, requestContext, page in
                let entry = try QueueAPI.entry(page.context, id: try requestContext.pathParameter("id"))
                try QueueAPI.changeOne(page.context, change, entry: entry)
                let done = change == .retry ? "is available again" : "was cancelled"
                return page.redirect("/queue/entries/\(entry.id)", notice: "Queue entry \(entry.id.prefix(16)) \(done).")
            }
            routes.post("/queue/\(change.rawValue)") { form, _, page in
                let (filter, back) = try Self.filter(form)
                let changed = try QueueAPI.change(page.context, change, filter)
                return page.redirect(back, notice: Self.notice(changed, verb: change == .retry ? "Retried" : "Cancelled"))
            }
        }
        routes.post("/queue/entries/:id/drop") { _, requestContext, page in
            let entry = try QueueAPI.entry(page.context, id: try requestContext.pathParameter("id"))
            try QueueAPI.dropOne(page.context, entry: entry)
            return page.redirect("/queue", notice: "Queue entry \(entry.id.prefix(16)) was dropped.")
        }
        routes.post("/queue/drop") { form, _, page in
            let (filter, back) = try Self.filter(form)
            return page.redirect(back, notice: Self.notice(try QueueAPI.drop(page.context, filter), verb: "Dropped"))
        }
        routes.post("/queue/run") { form, _, page in
            let runner = try QueueAPI.runner(page.context)
            let text = form["batch_size"] ?? ""
            guard let batchSize = Int(text), (1...QueueAPI.largestBatch).contains(batchSize) else {
                throw APIError.badRequest("the batch size must be a whole number from 1 to \(QueueAPI.largestBatch) (got '\(text.prefix(40))')", field: "batch_size")
            }
            let summary = try await QueueAPI.run(page.context, runner: runner, batchSize: batchSize)
            return page.redirect(
                "/queue",
                notice: "Ran a batch: \(summary.claimed) claimed, \(summary.completed) completed, \(summary.retrying) retrying, \(summary.parked) parked.")
        }
    }

    /// The filter of a bulk form (its hidden `state` and `rule`), and the list it came from. A form without a filter
    /// is refused: it would act on the whole queue.
    static func filter(_ form: FormBody) throws -> (QueueFilter, String) {
        let stateText = form["state"] ?? ""
        let rule = form["rule"].flatMap { $0.isEmpty ? nil : $0 }
        var states: [QueueState] = []
        if !stateText.isEmpty {
            guard let state = QueueState(rawValue: stateText) else {
                throw APIError.badRequest("'\(stateText.prefix(40))' is not a queue state", field: "state")
            }
            states = [state]
        }
        let filter = QueueFilter(states: states, rule: rule)
        guard !filter.isEmpty else { throw APIError.badRequest("choose a state or a rule first: these act on the entries a filter selects", field: "state") }
        var back = "/queue?"
        if !stateText.isEmpty { back += "state=" + PageLink.encode(stateText) + "&" }
        if let rule { back += "rule=" + PageLink.encode(rule) }
        return (filter, back.hasSuffix("&") || back.hasSuffix("?") ? String(back.dropLast()) : back)
    }

    static func notice(_ changed: QueueStore.Changed, verb: String) -> String {
        "\(verb) \(changed.changed) entr\(changed.changed == 1 ? "y" : "ies")" + (changed.leftAlone > 0 ? "; left \(changed.leftAlone) alone (their state does not allow it)." : ".")
    }

    static func row(_ entry: QueueEntry) -> [String: Any] {
        [
            "id": entry.id, "shortID": String(entry.id.prefix(16)), "link": "/queue/entries/\(entry.id)", "state": entry.state.rawValue,
            "rule": entry.rule, "action": entry.action, "place": entry.place, "attempts": entry.attempts, "maxAttempts": entry.maxAttempts,
            "nextAttempt": QueueTime.text(entry.nextAttemptAt), "lastError": entry.lastError ?? "", "lastErrorCode": entry.lastErrorCode ?? "",
            "canRetry": [.parked, .retryable, .scheduled, .cancelled].contains(entry.state),
            "canCancel": [.scheduled, .available, .retryable, .parked, .held].contains(entry.state),
            "canDrop": entry.state != .executing,
        ]
    }

    var templates: [String: String] {
        [
            "queue-overview": """
                <section class="card" id="queue">
                <h2><a href="/queue">Deletion queue</a></h2>
                <ul class="counts"><li><strong id="queue-total">{{total}}</strong>entries</li>
                {{#states}}<li><strong id="queue-count-{{state}}">{{count}}</strong><a href="{{link}}">{{state}}</a></li>{{/states}}
                {{#oldest}}<li><strong>{{oldest}}</strong>oldest waiting</li>{{/oldest}}</ul>
                </section>
                """,
            "queue-list": """
                <form class="filters" method="get" action="/queue">
                <label>State <select name="state"><option value="">any</option>
                {{#states}}<option value="{{state}}"{{#selected}} selected{{/selected}}>{{state}} ({{count}})</option>{{/states}}
                </select></label>
                <label>Rule <input name="rule" value="{{rule}}" placeholder="owned-files"></label>
                <button type="submit" class="secondary">Filter</button>
                </form>
                {{#runs}}
                <form class="filters" method="post" action="/queue/run"><input type="hidden" name="csrf" value="{{csrf}}">
                <label>Batch size <input name="batch_size" value="{{batchSize}}" size="6"></label>
                <button type="submit" id="run-batch">Run a batch now</button></form>
                {{/runs}}
                <p class="muted">{{shown}} entries shown{{#more}} (more match: narrow the filter){{/more}}.</p>
                {{#filtered}}{{#hasEntries}}
                <p>Every entry this filter selects:
                <form class="inline" method="post" action="/queue/retry"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="state" value="{{state}}"><input type="hidden" name="rule" value="{{rule}}"><button type="submit" class="secondary" id="retry-selected">Retry</button></form>
                <form class="inline" method="post" action="/queue/cancel"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="state" value="{{state}}"><input type="hidden" name="rule" value="{{rule}}"><button type="submit" class="secondary" id="cancel-selected">Cancel</button></form>
                <form class="inline" method="post" action="/queue/drop"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="state" value="{{state}}"><input type="hidden" name="rule" value="{{rule}}"><button type="submit" class="danger" id="drop-selected">Drop</button></form>
                </p>
                {{/hasEntries}}{{/filtered}}
                {{#hasEntries}}
                <table id="queue-table">
                <thead><tr><th>Id</th><th>State</th><th>Rule · action</th><th>Target</th><th class="number">Attempts</th><th>Last error</th><th>Next attempt</th><th></th></tr></thead>
                <tbody>
                {{#entries}}
                <tr id="queue-entry-{{id}}"><td><a href="{{link}}"><code>{{shortID}}</code></a></td><td>{{state}}</td><td>{{rule}}<br><span class="muted">{{action}}</span></td>
                <td><code>{{place}}</code></td><td class="number">{{attempts}}/{{maxAttempts}}</td><td><code>{{lastErrorCode}}</code> {{lastError}}</td><td>{{nextAttempt}}</td>
                <td>{{#canRetry}}<form class="inline" method="post" action="/queue/entries/{{id}}/retry"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="secondary" id="queue-retry-{{id}}">Retry</button></form>{{/canRetry}}
                {{#canCancel}}<form class="inline" method="post" action="/queue/entries/{{id}}/cancel"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="secondary" id="queue-cancel-{{id}}">Cancel</button></form>{{/canCancel}}
                {{#canDrop}}<form class="inline" method="post" action="/queue/entries/{{id}}/drop"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger" id="queue-drop-{{id}}">Drop</button></form>{{/canDrop}}</td></tr>
                {{/entries}}
                </tbody>
                </table>
                {{/hasEntries}}
                """,
            "queue-entry": """
                <table>
                <tr><th>Id</th><td><code>{{id}}</code></td></tr>
                <tr><th>State</th><td id="queue-state">{{state}}</td></tr>
                <tr><th>Rule · action</th><td>{{rule}} · {{action}}</td></tr>
                <tr><th>Target</th><td><code id="queue-place">{{place}}</code></td></tr>
                <tr><th>Parameters</th><td><code>{{target}}</code></td></tr>
                <tr><th>Record</th><td><code>{{archiveKey}}</code><br><span class="muted">{{source}}</span></td></tr>
                <tr><th>Attempts</th><td>{{attempts}} of {{maxAttempts}}; next {{nextAttempt}}</td></tr>
                <tr><th>Made</th><td>{{created}}</td></tr>
                {{#leased}}<tr><th>Leased</th><td>{{leased}}</td></tr>{{/leased}}
                {{#completed}}<tr><th>Finished</th><td>{{completed}}</td></tr>{{/completed}}
                {{#outcome}}<tr><th>Outcome</th><td><code>{{outcome}}</code></td></tr>{{/outcome}}
                {{#hold}}<tr><th>Held by</th><td>{{hold}}</td></tr>{{/hold}}
                </table>
                <h2>Error history</h2>
                {{#hasErrors}}
                <table id="queue-errors">
                <thead><tr><th class="number">Attempt</th><th>At</th><th>Code</th><th>HTTP</th><th>Error</th></tr></thead>
                <tbody>{{#errors}}<tr><td class="number">{{attempt}}</td><td>{{at}}</td><td><code>{{code}}</code></td><td>{{http}}</td><td>{{error}}</td></tr>{{/errors}}</tbody>
                </table>
                {{/hasErrors}}
                {{^hasErrors}}<p class="muted">No failed attempts.</p>{{/hasErrors}}
                <p>
                {{#canRetry}}<form class="inline" method="post" action="/queue/entries/{{id}}/retry"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="queue-retry">Retry</button></form>{{/canRetry}}
                {{#canCancel}}<form class="inline" method="post" action="/queue/entries/{{id}}/cancel"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="secondary" id="queue-cancel">Cancel</button></form>{{/canCancel}}
                {{#canDrop}}<form class="inline" method="post" action="/queue/entries/{{id}}/drop"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger" id="queue-drop">Drop</button></form>{{/canDrop}}
                </p>
                """,
        ]
    }
}
