import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit

extension Archiver {
    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a person: every archived record of a subject and the subject's application data, with a receipt.",
            discussion: """
                A rule's subject: template names who each archived record belongs to; as records are archived their \
                keys are indexed under the subject's HMAC (the key is kept 0600 in the state folder; the subject is \
                never stored). `erase --subject` finds the subject's records through the index (no scan of the \
                archive), deletes per-record objects, rewrites batched objects without them, runs the erasure.actions \
                of the configuration (e.g. delete-prefix users/{subject}/), suppresses the subject (its later records \
                are not archived) and writes a receipt chained to the ones before it.

                EXAMPLES:
                  archiver erase --subject 123 --dry-run --config archiver.yml
                  archiver erase --subject 123 --config archiver.yml --json
                  archiver erase --subject 123 --after 30d --config archiver.yml
                  archiver erase status er-0123456789abcdef --json
                  archiver erase cancel er-0123456789abcdef
                  archiver erase verify
                """,
            subcommands: [Start.self, Status.self, ListJobs.self, Cancel.self, Resume.self, RunDue.self, Receipt.self, Verify.self, Lift.self],
            defaultSubcommand: Start.self)

        struct Start: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "start",
                abstract: "Ask for an erasure (the default): now, or from --at / --after; --dry-run prints what would go.",
                discussion: """
                    EXAMPLES:
                      archiver erase start --subject 123 --dry-run --config archiver.yml
                      archiver erase --subject 123 --at 2026-12-01T00:00:00Z --config a.yml
                      archiver erase --subject 123 --scan --config archiver.yml
                    """)

            @Option(help: ArgumentHelp("The subject, as the rules' subject template fills it (e.g. 123 for USER#123 with strip-prefix:USER#).", valueName: "id"))
            var subject: String

            @Flag(help: "Print the manifest a real run would act on, with an estimate; change nothing.")
            var dryRun = false

            @Option(help: ArgumentHelp("Carry it out from this time (ISO 8601, e.g. 2026-12-01T00:00:00Z): queued for `erase run` / `queue run`.", valueName: "date"))
            var at: String?

            @Option(help: ArgumentHelp("Carry it out after this long (e.g. 30d, 12h).", valueName: "duration"))
            var after: String?

            @Flag(help: "Only queue the job (carried out by `erase run` or `queue run`), even when due now.")
            var queueOnly = false

            @Flag(help: "Also read every record of the archive for the subject (an archive, or records, the index does not cover), with progress.")
            var scan = false

            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption
            @OptionGroup var archive: ConfiguredArchiveOption
            @OptionGroup var encryption: EncryptionOption
            @OptionGroup var output: OutputOption

            func validate() throws {
                if let problem = SubjectCheck.problem(subject) { throw ValidationError("--subject: \(problem)") }
                if at != nil && after != nil { throw ValidationError("give --at or --after, not both") }
                if let at, EraseSetup.date(at) == nil { throw ValidationError("--at '\(at)' is not a date; write it as 2026-12-01T00:00:00Z") }
                if let after, ConfigurationDuration(after) == nil { throw ValidationError("--after '\(after)' is not a duration; write e.g. 30d, 12h or 90m") }
                if scan && (at != nil || after != nil) { throw ValidationError("--scan reads the archive now; run it without --at / --after (the records it finds are indexed, and a later erasure reaches them)") }
            }

            func run() async throws {
                let setup = try EraseSetup(config: config, state: state)
                let hmac = setup.key.hmac(subject)
                let actions = ErasurePlan.actions(for: subject, erasure: setup.configuration.erasure, roots: setup.configuration.roots)
                var records = try setup.erasures.indexed(subjectHMAC: hmac).map {
                    ErasurePlan.Record(archiveKey: $0.archiveKey, objectKey: $0.objectKey, archivedAt: $0.archivedAt)
                }
                if scan {
                    // Found records are indexed (a dry run only lists them), so the job reaches them through the index.
                    let found = try await IndexCommandSetup.scan(setup, archive: archive, encryption: encryption, only: hmac, json: output.json, write: !dryRun)
                    let known = Set(records.map(\.archiveKey))
                    records += found.filter { !known.contains($0.archiveKey) }.map { ErasurePlan.Record(archiveKey: $0.archiveKey, objectKey: $0.objectKey, archivedAt: Date()) }
                }
                var plan = ErasurePlan(subjectHMAC: hmac, records: records, actions: actions)
                let rate = setup.configuration.erasure.rate
                if dryRun {
                    plan.survey = try await setup.survey(plan, archive: archive, encryption: encryption)
                    plan.indexObjects = try await setup.indexObjects(plan, archive: archive, encryption: encryption)
                    if output.json {
                        Terminal.print(plan.json(rate: rate, roots: setup.configuration.roots).serialized)
                    } else {
                        Terminal.print(EraseText.manifest(plan, rate: rate))
                    }
                    return
                }
                let now = Date()
                let notBefore = at.flatMap(EraseSetup.date) ?? after.flatMap(ConfigurationDuration.init).map { now.addingTimeInterval($0.seconds) } ?? now
                let job = try setup.erasures.create(
                    subjectHMAC: hmac, actions: ErasurePlan.actionsJSON(actions, roots: setup.configuration.roots), notBefore: notBefore, at: now)
                if notBefore > now || queueOnly {
                    if output.json { Terminal.print(try setup.erasures.job(job.id).json.serialized) } else {
                        Terminal.print("erasure \(job.id) queued for \(ISO8601DateFormatter().string(from: notBefore)); `archiver erase run` or `archiver queue run` carries it out when due")
                    }
                    return
                }
                try await setup.carryOut(job.id, archive: archive, encryption: encryption, json: output.json)
            }
        }

        struct RunDue: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "run", abstract: "Carry out every due erasure job (and continue those a killed run left).",
                discussion: """
                    EXAMPLES:
                      archiver erase run --config archiver.yml
                      archiver erase run --config archiver.yml --json
                    """)
            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption
            @OptionGroup var archive: ConfiguredArchiveOption
            @OptionGroup var encryption: EncryptionOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                try await EraseSetup(config: config, state: state).carryOut(nil, archive: archive, encryption: encryption, json: output.json)
            }
        }

        struct Resume: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Continue a cancelled, failed or killed job now.",
                discussion: """
                    EXAMPLES:
                      archiver erase resume er-0123456789abcdef --config archiver.yml
                    """)
            @Argument(help: "The job's id.") var job: String
            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption
            @OptionGroup var archive: ConfiguredArchiveOption
            @OptionGroup var encryption: EncryptionOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let setup = try EraseSetup(config: config, state: state)
                let found = try setup.erasures.job(job)
                if found.state != .running && found.state != .queued { _ = try setup.erasures.resume(job) }
                try await setup.carryOut(job, archive: archive, encryption: encryption, json: output.json)
            }
        }

        struct Status: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a job: its state, counts and (with --events) its event log.",
                discussion: """
                    EXAMPLES:
                      archiver erase status er-0123456789abcdef
                      archiver erase status er-0123456789abcdef --events --json
                    """)
            @Argument(help: "The job's id.") var job: String
            @Flag(help: "Also print the event log (one event per object changed or failed).") var events = false
            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let setup = try EraseSetup(config: config, state: state, needsKey: false)
                let found = try setup.erasures.job(job)
                let log = events ? try setup.erasures.events(job) : []
                if output.json {
                    var json = found.json
                    if events, case .object(var members) = json {
                        members.append(("events", .array(log.map(\.json))))
                        json = .object(members)
                    }
                    Terminal.print(json.serialized)
                } else {
                    Terminal.print(EraseText.job(found))
                    for event in log { Terminal.print("  \(event.outcome)  \(event.store)  \(event.operation)  \(event.key)\(event.detail.map { "  (\($0))" } ?? "")") }
                }
            }
        }

        struct ListJobs: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List erasure jobs, newest first.",
                discussion: """
                    EXAMPLES:
                      archiver erase list
                      archiver erase list --json
                    """)
            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let jobs = try EraseSetup(config: config, state: state, needsKey: false).erasures.jobs()
                if output.json {
                    Terminal.print(JSONValue.array(jobs.map(\.json)).serialized)
                } else {
                    let format = ISO8601DateFormatter()
                    let rows = [["JOB", "STATE", "REQUESTED", "SUBJECT (HMAC)", "ERASED"]] + jobs.map { job in
                        [job.id, job.state.rawValue, format.string(from: job.requestedAt), String(job.subjectHMAC.prefix(16)),
                         "\(job.counts.filter { $0.key.hasPrefix("archive.") && !$0.key.hasSuffix(".failed") }.values.reduce(0, +))"]
                    }
                    Terminal.print(TextTable().lines(rows).joined(separator: "\n"))
                }
            }
        }

        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Stop a job at its next clean point (`erase resume` continues it).",
                discussion: """
                    EXAMPLES:
                      archiver erase cancel er-0123456789abcdef
                    """)
            @Argument(help: "The job's id.") var job: String
            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let found = try EraseSetup(config: config, state: state, needsKey: false).erasures.cancel(job, at: Date())
                if output.json { Terminal.print(found.json.serialized) } else {
                    Terminal.print(found.state == .cancelled ? "erasure \(job) cancelled" : "erasure \(job): cancel asked; it stops at its next clean point")
                }
            }
        }

        struct Receipt: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print a finished job's receipt (JSON).",
                discussion: """
                    EXAMPLES:
                      archiver erase receipt er-0123456789abcdef
                    """)
            @Argument(help: "The job's id.") var job: String
            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption

            func run() async throws {
                let setup = try EraseSetup(config: config, state: state, needsKey: false)
                try setup.receipts.writeMissing(setup.erasures)
                Terminal.print(try setup.receipts.text(job).trimmingCharacters(in: .newlines))
            }
        }

        struct Verify: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Check the receipts' hash chain: an edited or missing receipt fails.",
                discussion: """
                    EXAMPLES:
                      archiver erase verify
                      archiver erase verify --json
                    """)
            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let setup = try EraseSetup(config: config, state: state, needsKey: false)
                let count = try setup.receipts.verify(setup.erasures)
                if output.json { Terminal.print(JSONValue.object([("receipts", .integer(count)), ("intact", .bool(true))]).serialized) } else {
                    Terminal.print("\(count) receipts, chain intact")
                }
            }
        }

        struct Lift: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Lift a subject's suppression: its later records are archived again (recorded).",
                discussion: """
                    EXAMPLES:
                      archiver erase lift --subject 123 --reason "restored" --config a.yml
                    """)
            @Option(help: ArgumentHelp("The subject.", valueName: "id")) var subject: String
            @Option(help: ArgumentHelp("Why (kept with the suppression).", valueName: "text")) var reason: String = "lifted by an operator"
            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption

            func validate() throws {
                if let problem = SubjectCheck.problem(subject) { throw ValidationError("--subject: \(problem)") }
            }

            func run() async throws {
                let setup = try EraseSetup(config: config, state: state)
                if try setup.erasures.lift(setup.key.hmac(subject), reason: reason, at: Date()) {
                    Terminal.print("suppression lifted: records of this subject are archived again")
                } else {
                    throw ValidationError("this subject is not suppressed (never erased, or lifted already)")
                }
            }
        }
    }
}
