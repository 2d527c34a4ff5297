import ArchiverCore
import Foundation
import Hummingbird

/// Coordinated deletions: counts per state on the overview; a list by state with the consumers still awaited and the
/// time left; one coordination with each consumer's answer and its held actions. Rule names, consumers, details and
/// archive keys come from the configuration and from consumers: every one is escaped.
struct CoordinationsSection: PageSection {
    var navigation: PageNavigation? { PageNavigation(title: "Coordinations", path: "/coordinations") }

    /// Coordinations shown on the list page.
    static let pageSize = 200

    func overview(_ page: PageRequest) async throws -> String? {
        let counts = try CoordinationsAPI.store(page.context).counts()
        let total = counts.values.reduce(0, +)
        return page.render("coordinations-overview", [
            "total": total,
            "states": CoordinationState.allCases.compactMap { state -> [String: Any]? in
                let count = counts[state] ?? 0
                // Waiting and parked are what a person looks at; the others when they hold coordinations.
                guard count > 0 || [.waiting, .parked].contains(state) else { return nil }
                return ["state": state.rawValue, "count": count, "link": "/coordinations?state=\(state.rawValue)"]
            },
        ])
    }

    func addRoutes(to routes: PageRoutes) {
        routes.get("/coordinations") { request, _, page in
            let query = try QueryParameters(request, allowed: ["state"])
            let state = try query.choice("state", CoordinationState.allCases.map(\.rawValue)).flatMap(CoordinationState.init(rawValue:))
            let (views, more) = try CoordinationsAPI.list(page.context, state: state, limit: Self.pageSize)
            let counts = try CoordinationsAPI.store(page.context).counts()
            let now = Date()
            let body = page.render("coordinations-list", [
                "states": CoordinationState.allCases.map { ["state": $0.rawValue, "count": counts[$0] ?? 0, "selected": $0 == state] as [String: Any] },
                "shown": views.count, "more": more, "hasEntries": !views.isEmpty,
                "entries": views.map { Self.row($0, now: now) },
            ])
            return page.page(title: "Coordinations", body: body)
        }
        routes.get("/coordinations/:id") { request, requestContext, page in
            _ = try QueryParameters(request, allowed: [])
            let view = try CoordinationsAPI.store(page.context).show(try requestContext.pathParameter("id"))
            var data = Self.row(view, now: Date())
            data["source"] = view.source
            data["created"] = QueueTime.text(view.createdAt)
            data["cap"] = QueueTime.text(view.capAt)
            data["released"] = view.releasedAt.map(QueueTime.text) as Any
            data["completed"] = view.completedAt.map(QueueTime.text) as Any
            data["reason"] = view.reason as Any
            data["consumers"] = view.consumers.map { consumer -> [String: Any] in
                [
                    "name": consumer.name, "critical": consumer.critical, "status": consumer.status.rawValue,
                    "acked": consumer.ackedAt.map(QueueTime.text) ?? "–", "deadline": QueueTime.text(consumer.deadline),
                    "heartbeats": consumer.heartbeats, "detail": consumer.detail ?? "",
                    "late": consumer.lateStatus.map { "\($0) at \(consumer.lateAt.map(QueueTime.text) ?? "?")" } ?? "",
                ]
            }
            data["actions"] = view.actions.map { ["id": $0.id, "shortID": String($0.id.prefix(16)), "action": $0.action, "state": $0.state] }
            data["hasActions"] = !view.actions.isEmpty
            data["decidable"] = view.state == .waiting || view.state == .parked
            return page.page(title: "Coordination \(view.id.prefix(16))", body: page.render("coordination", data))
        }
        Self.addDecisions(to: routes)
    }

    static func addDecisions(to routes: PageRoutes) {
        for decision in CoordinationsAPI.Decision.allCases {
            routes.post("/coordinations/:id/\(decision.rawValue)") { _, requestContext, page in
                let view = try CoordinationsAPI.decide(page.context, decision, id: try requestContext.pathParameter("id"))
                let done = decision == .release ? "was released: its actions are in the queue" : "was cancelled: its actions will not run"
                return page.redirect("/coordinations/\(view.id)", notice: "Coordination \(view.id.prefix(16)) \(done).")
            }
        }
    }

    static func row(_ view: CoordinationView, now: Date) -> [String: Any] {
        [
            "id": view.id, "shortID": String(view.id.prefix(16)), "link": "/coordinations/\(view.id)", "state": view.state.rawValue,
            "rule": view.rule, "archiveKey": view.archiveKey,
            "awaited": view.awaited.isEmpty ? "–" : view.awaited.joined(separator: ", "),
            "left": view.nextDeadline.map { PageFormat.seconds(max(0, $0.timeIntervalSince(now))) } ?? "–",
        ]
    }

    var templates: [String: String] {
        [
            "coordinations-overview": """
                <section class="card" id="coordinations">
                <h2><a href="/coordinations">Coordinations</a></h2>
                <ul class="counts"><li><strong id="coordinations-total">{{total}}</strong>coordinations</li>
                {{#states}}<li><strong id="coordinations-count-{{state}}">{{count}}</strong><a href="{{link}}">{{state}}</a></li>{{/states}}</ul>
                </section>
                """,
            "coordinations-list": """
                <form class="filters" method="get" action="/coordinations">
                <label>State <select name="state"><option value="">any</option>
                {{#states}}<option value="{{state}}"{{#selected}} selected{{/selected}}>{{state}} ({{count}})</option>{{/states}}
                </select></label>
                <button type="submit" class="secondary">Filter</button>
                </form>
                <p class="muted">{{shown}} coordinations shown, newest first{{#more}} (more match: choose a state){{/more}}.</p>
                {{#hasEntries}}
                <table id="coordinations-table">
                <thead><tr><th>Id</th><th>State</th><th>Rule</th><th>Awaited</th><th>Time left</th><th>Archive key</th></tr></thead>
                <tbody>
                {{#entries}}
                <tr id="coordination-{{id}}"><td><a href="{{link}}"><code>{{shortID}}</code></a></td><td>{{state}}</td><td>{{rule}}</td>
                <td class="awaited">{{awaited}}</td><td>{{left}}</td><td><code>{{archiveKey}}</code></td></tr>
                {{/entries}}
                </tbody>
                </table>
                {{/hasEntries}}
                {{^hasEntries}}<p class="muted">No coordinations.</p>{{/hasEntries}}
                """,
            "coordination": """
                <table>
                <tr><th>Id</th><td><code>{{id}}</code></td></tr>
                <tr><th>State</th><td id="coordination-state">{{state}}{{#reason}} ({{reason}}){{/reason}}</td></tr>
                <tr><th>Rule</th><td>{{rule}}</td></tr>
                <tr><th>Record</th><td><code>{{archiveKey}}</code><br><span class="muted">{{source}}</span></td></tr>
                <tr><th>Awaited</th><td id="coordination-awaited">{{awaited}}</td></tr>
                <tr><th>Time left</th><td>{{left}} (no wait past {{cap}})</td></tr>
                <tr><th>Made</th><td>{{created}}</td></tr>
                {{#released}}<tr><th>Released</th><td>{{released}}</td></tr>{{/released}}
                {{#completed}}<tr><th>Completed</th><td>{{completed}}</td></tr>{{/completed}}
                </table>
                <h2>Consumers</h2>
                <table id="coordination-consumers">
                <thead><tr><th>Consumer</th><th>Status</th><th>Acked</th><th>Deadline</th><th class="number">Heartbeats</th><th>Detail</th><th>Late ack</th></tr></thead>
                <tbody>{{#consumers}}<tr><td>{{name}}{{#critical}} <span class="muted">(critical)</span>{{/critical}}</td><td>{{status}}</td><td>{{acked}}</td>
                <td>{{deadline}}</td><td class="number">{{heartbeats}}</td><td>{{detail}}</td><td>{{late}}</td></tr>{{/consumers}}</tbody>
                </table>
                <h2>Held actions</h2>
                {{#hasActions}}
                <table id="coordination-actions">
                <thead><tr><th>Entry</th><th>Action</th><th>State</th></tr></thead>
                <tbody>{{#actions}}<tr><td><a href="/queue/entries/{{id}}"><code>{{shortID}}</code></a></td><td>{{action}}</td><td>{{state}}</td></tr>{{/actions}}</tbody>
                </table>
                {{/hasActions}}
                {{^hasActions}}<p class="muted">No actions.</p>{{/hasActions}}
                {{#decidable}}<p>
                <form class="inline" method="post" action="/coordinations/{{id}}/release"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" id="coordination-release">Release its actions now</button></form>
                <form class="inline" method="post" action="/coordinations/{{id}}/cancel"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit" class="danger" id="coordination-cancel">Cancel its actions</button></form>
                </p>{{/decidable}}
                """,
        ]
    }
}
