import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit
import Logging

/// What the erase commands share: the configuration, the state folder's erasure store and receipts, the key.
struct EraseSetup {
    let configuration: ArchiverConfiguration
    let stateFolder: String
    let erasures: ErasureStore
    let receipts: ReceiptBook
    let key: SubjectKey

    init(config: ConfigOption, state: StateOption, needsKey: Bool = true) throws {
        configuration = try config.load()
        stateFolder = state.folder(configuration)
        guard FileSystem.isFolder(stateFolder) || needsKey else {
            throw ValidationError("there is no state folder \(FileSystem.absolute(stateFolder)); give the one the tail uses (--state, ARCHIVER_STATE or state: in the configuration)")
        }
        if needsKey && !configuration.indexesSubjects && configuration.erasure.actions.isEmpty {
            throw ValidationError("no rule of the configuration names a subject: and there are no erasure.actions, so nothing can be found to erase; add subject: to the rules (see docs/configuration.md) and name the file with --config or ARCHIVER_CONFIG")
        }
        erasures = ErasureStore(checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false))
        receipts = ReceiptBook(stateFolder: stateFolder)
        key = needsKey ? try SubjectKey(stateFolder: stateFolder, file: configuration.erasure.keyFile) : SubjectKey(bytes: [])
    }

    /// The events and acks erasure jobs of `configuration` go through (``ErasureEvents``).
    static func events(_ configuration: ArchiverConfiguration, stateFolder: String, logger: Logger) throws -> ErasureEvents {
        ErasureEvents(checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false), eventSource: configuration.events.source,
                      policy: configuration.erasure.coordinate, logger: logger)
    }

    static func date(_ text: String) -> Date? {
        let format = ISO8601DateFormatter()
        if let date = format.date(from: text) { return date }
        format.formatOptions = [.withFullDate]
        return format.date(from: text)
    }

    /// Each object `plan` touches, with its versions, storage class, age and early-deletion charge, from listings of
    /// the archive (no request per object); nil when no archive is named (the manifest then has no charge).
    func survey(_ plan: ErasurePlan, archive: ConfiguredArchiveOption, encryption: EncryptionOption) async throws -> ErasureSurvey? {
        guard !plan.records.isEmpty, let (location, text) = try archive.named(configuration) else { return nil }
        let wiring = Wiring(logger: Terminal.logger)
        let store = try wiring.store(location, serverSideEncryption: try encryption.encryption(for: location, named: text), access: .existing)
        return try await ErasureSurvey.survey(plan, store: store, eraser: wiring.eraser(location, store: store, erasure: configuration.erasure), at: Date())
    }

    /// The archive's subject index objects that name the plan's subject for one of its records (a dry run's list).
    func indexObjects(_ plan: ErasurePlan, archive: ConfiguredArchiveOption, encryption: EncryptionOption) async throws -> [String]? {
        guard !plan.records.isEmpty, let (location, text) = try archive.named(configuration) else { return nil }
        let store = try Wiring(logger: Terminal.logger).store(location, serverSideEncryption: try encryption.encryption(for: location, named: text), access: .existing)
        return try await SubjectIndexObjectReader(store: store).naming(plan.subjectHMAC, records: plan.records.map(\.archiveKey)).map(\.key)
    }

    /// Carries out the job `id` (nil: every due one) with a progress line, then prints the outcome and receipts.
    func carryOut(_ id: String?, archive: ConfiguredArchiveOption, encryption: EncryptionOption, json: Bool) async throws {
        let logger = Terminal.logger
        let (location, text) = try archive.required(configuration)
        let wiring = Wiring(logger: logger)
        let store = try wiring.store(location, serverSideEncryption: try encryption.encryption(for: location, named: text), access: .existing)
        try QueueSetup.checkRoots(configuration, archive: location, stateFolder: stateFolder)
        let runner = ErasureRunner(
            erasures: erasures, store: store, eraser: wiring.eraser(location, store: store, erasure: configuration.erasure),
            executors: try wiring.executors(roots: configuration.roots, archive: store, concurrency: configuration.queue.concurrency),
            roots: configuration.roots, receipts: receipts, logger: logger,
            events: try Self.events(configuration, stateFolder: stateFolder, logger: logger))
        let progress = ProgressLine(enabled: !json)
        let summary = try await runner.run(id) { state in
            let rate = state.seconds > 0 ? Double(state.done) / state.seconds : 0
            let left = max(0, state.found - state.done - state.failed)
            let eta = rate > 0 ? String(format: "  eta %.0f s", Double(left) / rate) : ""
            progress.update("erasure \(state.job): found \(state.found)  erased \(state.done)  failed \(state.failed)  \(String(format: "%.0f", rate))/s\(eta)")
        }
        progress.finish()
        if json {
            let items = try summary.jobs.map { job -> JSONValue in
                let found = try erasures.job(job)
                let receipt = (try? receipts.text(job)).flatMap { try? JSONValue.parse($0) } ?? .null
                return .object([("job", found.json), ("receipt", receipt)])
            }
            Terminal.print(JSONValue.object([("jobs", .array(items))]).serialized)
            return
        }
        if summary.jobs.isEmpty {
            Terminal.print(id.map { "erasure \($0) is not due, or another run is carrying it out (`archiver erase status \($0)`)" } ?? "no erasure is due")
            return
        }
        for job in summary.jobs { Terminal.print(EraseText.job(try erasures.job(job))) }
    }
}

/// Text for people.
enum EraseText {
    static func job(_ job: ErasureJob) -> String {
        let format = ISO8601DateFormatter()
        var rows: [(String, String)] = [
            ("job", job.id), ("state", job.state.rawValue), ("subject (HMAC)", job.subjectHMAC),
            ("requested", format.string(from: job.requestedAt)),
        ]
        if job.notBefore > job.requestedAt { rows.append(("not before", format.string(from: job.notBefore))) }
        if let started = job.startedAt { rows.append(("started", format.string(from: started))) }
        if let finished = job.finishedAt { rows.append(("finished", format.string(from: finished))) }
        for (name, count) in job.counts.sorted(by: { $0.key < $1.key }) { rows.append((name, "\(count)")) }
        if let error = job.error { rows.append((job.state == .queued ? "waiting" : "error", error)) }
        if job.state.isFinished { rows.append(("receipt", "archiver erase receipt \(job.id)")) }
        return alignedRows(rows)
    }

    static func manifest(_ plan: ErasurePlan, rate: Double) -> String {
        var lines: [String] = []
        let estimate = plan.estimate(rate: rate)
        lines.append(alignedRows([
            ("subject (HMAC)", plan.subjectHMAC),
            ("records", "\(plan.records.count)"),
            ("objects deleted", "\(plan.objectsToDelete)"),
            ("objects rewritten", "\(plan.objectsToRewrite)  (batched objects, without the subject's records)"),
            ("actions", "\(plan.actions.count)"),
            ("index objects", plan.indexObjects.map { "\($0.count)  (subject index objects rewritten without the subject's lines)" } ?? "not read (no archive named)"),
            ("estimate", "\(estimate.requests) requests, \(String(format: "%.1f", estimate.seconds)) s at \(Int(rate)) objects/s"),
            ("early deletion", estimate.earlyDeletionUSD.map { String(format: "$%.4f", $0) + "  (minimum storage durations of the classes below)" }
                ?? (plan.survey == nil ? "not estimated (no archive named)" : "none (the store has no storage classes)")),
        ]))
        if let survey = plan.survey, survey.known {
            let classes = survey.byStorageClass.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append(alignedRows([("versions", "\(survey.versions)  (\(classes.isEmpty ? "none found" : classes))")]))
        }
        lines.append("")
        if let survey = plan.survey, survey.known {
            // One line per object: what happens, its class, age, versions and charge.
            let rows = [["OPERATION", "CLASS", "AGE", "VERSIONS", "CHARGE", "OBJECT"]] + survey.objects.map { object in
                [object.operation, object.storageClass ?? "absent", object.ageDays(at: survey.at).map { String(format: "%.0f d", $0) } ?? "-",
                 "\(object.versions.count)", String(format: "$%.4f", object.charge(at: survey.at)), object.key]
            }
            lines += TextTable().lines(rows)
            for record in plan.records { if let object = record.objectKey { lines.append("rewrite  \(record.archiveKey)  (in \(object))") } }
        } else {
            for record in plan.records {
                lines.append(record.objectKey.map { "rewrite  \(record.archiveKey)  (in \($0))" } ?? "delete   \(record.archiveKey)")
            }
        }
        for key in plan.indexObjects ?? [] { lines.append("rewrite  \(key)  (subject index object, without the subject's lines)") }
        for action in plan.actions {
            lines.append("\(action.target.kind.rawValue)  \(action.root): \(action.target.path)\(action.unsafe.map { "  NEVER RUN: \($0)" } ?? "")")
        }
        lines.append("\ndry run: nothing was changed")
        return lines.joined(separator: "\n")
    }
}
