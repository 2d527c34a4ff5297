import ArchiverCore
import Foundation
import Hummingbird
import JSONToolkit
import Logging

/// Erasure of a subject: jobs listed by state, one with its counts and progress, its receipt, a new erasure (now,
/// after a while, or a dry run answering the manifest) and the cancel of one. The subject is taken from the request's
/// body only and never logged or kept: jobs and receipts hold its HMAC. Due jobs are carried out by the service's
/// erasure worker (beside the queue's workers), or by `archiver erase run` / `queue run`.
struct ErasuresAPI: APIFeature {
    func addRoutes(to routes: APIRoutes) {
        routes.add(.get, "/erasures") { request, _, context in
            let query = try QueryParameters(request, allowed: ["state", "limit"])
            let state = try query.choice("state", ErasureJobState.allCases.map(\.rawValue)).flatMap(ErasureJobState.init(rawValue:))
            let limit = try query.int("limit", in: 1...1000, default: 100)
            let (jobs, more) = try Self.list(context, state: state, limit: limit)
            return Response.json(.object([("limit", .integer(limit)), ("more", .bool(more)), ("jobs", .array(jobs.map { Self.json($0, left: nil) }))]))
        }
        routes.add(.get, "/erasures/{job}") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            let job = try Self.store(context).job(try requestContext.pathParameter("job"))
            return Response.json(Self.json(job, left: try Self.left(context, job)))
        }
        routes.add(.get, "/erasures/{job}/receipt") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            let job = try Self.store(context).job(try requestContext.pathParameter("job"))
            guard job.state.isFinished else {
                throw APIError.conflict("the erasure job \(job.id) is \(job.state.rawValue); its receipt is written when it completes", field: "job")
            }
            let text = try ReceiptBook(stateFolder: context.parts.stateFolder).text(job.id)
            return Response.text(text.hasSuffix("\n") ? text : text + "\n", contentType: "application/json; charset=utf-8")
        }
        routes.add(.post, "/erasures") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            var body = try await JSONBody(request, context: requestContext)
            let subject = try body.requiredString("subject", "the subject, as the rules' subject template fills it (e.g. 123 for USER#123)")
            let dryRun = try body.bool("dry_run", default: false)
            let afterText = try body.string("after")
            try body.finish()
            if let problem = SubjectCheck.problem(subject) { throw APIError.badRequest(problem, field: "subject") }
            var after: Double = 0
            if let afterText {
                guard let duration = ConfigurationDuration(afterText), duration.seconds >= 0 else {
                    throw APIError.badRequest("'after' is not a duration; write e.g. 30d, 12h or 90m", field: "after")
                }
                after = duration.seconds
            }
            let (prepared, store) = try await Self.prepare(context, subject: subject, survey: dryRun)
            if dryRun { return Response.json(prepared.manifest) }
            let now = Date()
            let job = try store.create(subjectHMAC: prepared.subjectHMAC, actions: prepared.actions, notBefore: now.addingTimeInterval(after), at: now)
            context.logger.notice("an erasure was asked for over HTTP", metadata: [
                "erasure.job": "\(job.id)", "subject.hmac": "\(job.subjectHMAC.prefix(16))", "erasure.not_before": "\(QueueTime.text(job.notBefore))",
            ])
            return Response.json(Self.json(job, left: nil), status: .accepted)
        }
        routes.add(.post, "/erasures/{job}/cancel") { request, requestContext, context in
            _ = try QueryParameters(request, allowed: [])
            let job = try Self.store(context).cancel(try requestContext.pathParameter("job"), at: Date())
            context.logger.notice("an erasure was cancelled over HTTP", metadata: ["erasure.job": "\(job.id)", "erasure.state": "\(job.state.rawValue)"])
            return Response.json(Self.json(job, left: nil))
        }
    }

    var stats: StatsMember? {
        StatsMember(name: "erasures", schema: "ErasureStats") { context in try Self.stats(context) }
    }

    // MARK: Operations (the page uses them too)

    static func store(_ context: ServeContext) -> ErasureStore { ErasureStore(checkpoints: context.checkpoints) }

    /// Jobs of a state (all: nil), newest first, at most `limit`; and whether there are more.
    static func list(_ context: ServeContext, state: ErasureJobState?, limit: Int) throws -> (jobs: [ErasureJob], more: Bool) {
        let jobs = try store(context).jobs(state: state, limit: limit + 1)
        return (Array(jobs.prefix(limit)), jobs.count > limit)
    }

    /// The subject's records a queued or running job has still to erase (nil for a finished job).
    static func left(_ context: ServeContext, _ job: ErasureJob) throws -> Int? {
        [.queued, .running].contains(job.state) ? try store(context).indexedCount(subjectHMAC: job.subjectHMAC) : nil
    }

    /// The subject's erasure as it would be recorded; with `survey` (a dry run), its manifest lists each object's
    /// versions, storage class, age and early-deletion charge from the archive's listings.
    static func prepare(_ context: ServeContext, subject: String, survey: Bool) async throws -> (ServeErasure.Prepared, ErasureStore) {
        guard let erasure = context.parts.erasure else {
            throw APIError.conflict(
                "no rule of the configuration names a subject: and there are no erasure.actions, so nothing can be found to erase; add subject: to the rules (see docs/configuration.md)")
        }
        let store = store(context)
        return (try await erasure.prepare(subject, store, survey), store)
    }

    static func stats(_ context: ServeContext) throws -> JSONValue {
        let store = store(context)
        let states = try store.stateCounts()
        return .object([
            ("states", .object(ErasureJobState.allCases.map { ($0.rawValue, .integer(states[$0] ?? 0)) })),
            ("objects_erased", .integer(try store.objectsErased())),
        ])
    }

    /// The job as `erase status --json` prints it, with its progress: objects erased and failed so far, records left.
    static func json(_ job: ErasureJob, left: Int?) -> JSONValue {
        let progress = Self.progress(job)
        guard case .object(var members) = job.json else { return job.json }
        members.append(("progress", .object([
            ("erased", .integer(progress.erased)), ("failed", .integer(progress.failed)), ("left", left.map { .integer($0) } ?? .null),
        ])))
        return .object(members)
    }

    /// Archived objects erased and failed so far (from the job's counts).
    static func progress(_ job: ErasureJob) -> (erased: Int, failed: Int) {
        let archive = job.counts.filter { $0.key.hasPrefix("archive.") }
        let failed = archive.filter { $0.key.hasSuffix(".failed") }.values.reduce(0, +)
        let erased = archive.filter { $0.key == "archive.deleted" || $0.key == "archive.rewritten" }.values.reduce(0, +)
        return (erased, failed)
    }

    let openAPI = ErasuresOpenAPI.text
}
