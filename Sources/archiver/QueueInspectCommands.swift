import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit

extension Archiver.Queue {
    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Counts per state, the oldest waiting entry's age, attempts spread and errors by code.",
            discussion: """
                Reads counts kept as entries change, so it answers at once however long the queue is.

                EXAMPLES:
                  archiver queue stats --config archiver.yml
                  archiver queue stats --state-folder /var/lib/archiver --json
                """)
        @OptionGroup var config: ConfigOption
        @OptionGroup var folder: QueueFolderOption
        @OptionGroup var output: OutputOption

        func run() async throws {
            let queue = try folder.queue(config)
            let stats = try queue.stats()
            let coordinations = try CoordinationStore(queue: queue).counts()
            let now = Date()
            var erasures: [QueueState: Int] = [:]
            for job in try folder.erasures(config).waitingJobs() {
                if let state = ErasureQueueView.queueState(job, now: now) { erasures[state, default: 0] += 1 }
            }
            let erasureStates: [QueueState] = [.scheduled, .available, .executing]
            if output.json {
                let counts = JSONValue.object(CoordinationState.allCases.map { ($0.rawValue, .integer(coordinations[$0] ?? 0)) })
                let jobs = JSONValue.object(erasureStates.map { ($0.rawValue, .integer(erasures[$0] ?? 0)) })
                Terminal.print(stats.json(now: now).appendingMember(("coordinations", counts)).appendingMember(("erasure_jobs", jobs)).formatted(indent: 2))
                return
            }
            var rows: [(String, String)] = [("entries", QueueText.count(stats.total))]
            for state in QueueState.allCases { rows.append(("  " + state.rawValue, QueueText.count(stats.counts[state] ?? 0))) }
            rows.append(("oldest waiting", stats.oldestWaiting.map { "\(QueueText.age(now.timeIntervalSince($0))) (since \(QueueTime.text($0)))" } ?? "none"))
            rows.append(("next due", stats.nextDue.map { $0 <= now ? "now" : "in \(QueueText.age($0.timeIntervalSince(now)))" } ?? "nothing waits"))
            rows.append(("attempts", stats.attempts.isEmpty ? "none" : stats.attempts.sorted { $0.key < $1.key }.map { "\($0.key): \(QueueText.count($0.value))" }.joined(separator: "  ")))
            rows.append(("errors", stats.errors.isEmpty ? "none" : stats.errors.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \(QueueText.count($0.value))" }.joined(separator: "  ")))
            if coordinations.values.contains(where: { $0 > 0 }) {
                rows.append(("coordinations", QueueText.count(coordinations.values.reduce(0, +))))
                for state in CoordinationState.allCases { rows.append(("  " + state.rawValue, QueueText.count(coordinations[state] ?? 0))) }
            }
            if !erasures.isEmpty {
                rows.append(("erasure jobs", QueueText.count(erasures.values.reduce(0, +)) + "  (archiver erase list)"))
                for state in erasureStates { rows.append(("  " + state.rawValue, QueueText.count(erasures[state] ?? 0))) }
            }
            Terminal.print(alignedRows(rows))
        }
    }

    struct ListEntries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List entries: id, state, attempts, rule, action, target, last error.",
            discussion: """
                Oldest first; at most --limit (100 unless given; 0 for all). --json prints every field of each entry. \
                Erasure jobs that have not ended (scheduled with --at / --after, due, or running) follow the entries, \
                unless --rule is given: `queue run` carries them out and `queue cancel <job>` cancels one.

                EXAMPLES:
                  archiver queue list --config archiver.yml
                  archiver queue list --state parked --state retryable \\
                      --rule upload-files --config archiver.yml
                  archiver queue list --state completed --limit 0 --json \\
                      --state-folder /var/lib/archiver
                """)
        @OptionGroup var config: ConfigOption
        @OptionGroup var folder: QueueFolderOption
        @OptionGroup var filter: QueueFilterOption
        @Option(help: ArgumentHelp("The most entries shown; 0 for all.", valueName: "n"))
        var limit = 100
        @OptionGroup var output: OutputOption

        func validate() throws {
            guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
        }

        func run() async throws {
            let queue = try folder.queue(config)
            let selected = try filter.filter(queue: queue)
            let now = Date()
            let jobs: [(job: ErasureJob, state: QueueState)] = filter.rule != nil ? [] : try folder.erasures(config).waitingJobs().compactMap { job in
                guard let state = ErasureQueueView.queueState(job, now: now), selected.states.isEmpty || selected.states.contains(state) else { return nil }
                return (job, state)
            }
            if output.json {
                // One entry a line would not be JSON: stream an array.
                Terminal.print("[")
                var first = true
                try queue.each(selected, limit: limit) { entry in
                    Terminal.print((first ? "  " : "  ,") + entry.json.serialized)
                    first = false
                }
                for (job, state) in jobs {
                    let member: JSONValue = .object(
                        [("erasure_job", .string(job.id)), ("state", .string(state.rawValue)), ("job_state", .string(job.state.rawValue))]
                            + (job.json.objectMembers ?? []).filter { $0.0 != "job" && $0.0 != "state" })
                    Terminal.print((first ? "  " : "  ,") + member.serialized)
                    first = false
                }
                Terminal.print("]")
                return
            }
            var rows: [[String]] = []
            try queue.each(selected, limit: limit) { entry in
                rows.append([
                    String(entry.id.prefix(16)), entry.state.rawValue, "\(entry.attempts)/\(entry.maxAttempts)", entry.rule, entry.action,
                    TargetCheck.quoted(entry.place, limit: 60), entry.lastError.map { TargetCheck.printable($0, limit: 100) } ?? "",
                ])
            }
            if rows.isEmpty && jobs.isEmpty {
                Terminal.print("no entries\(filter.isEmpty ? "" : " match")")
            } else if !rows.isEmpty {
                TextTable().lines(rows).forEach(Terminal.print)
            }
            if !jobs.isEmpty {
                if !rows.isEmpty { Terminal.print("") }
                Terminal.print("erasure jobs (archiver erase status <job>):")
                TextTable().lines(jobs.map { job, state in
                    [job.id, state.rawValue, job.state.rawValue, "not before " + QueueTime.text(job.notBefore), "subject " + String(job.subjectHMAC.prefix(12)) + "…"]
                }).forEach(Terminal.print)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one entry with its error history.",
            discussion: """
                The id may be shortened to its first characters (at least 4), as `queue list` prints it.

                EXAMPLES:
                  archiver queue show 3f2a9c0d41b7e655 --config archiver.yml
                  archiver queue show 3f2a9c0d41b7e655 --json --state-folder /var/lib/archiver
                """)
        @Argument(help: "The entry's id, or its first characters.") var id: String
        @OptionGroup var config: ConfigOption
        @OptionGroup var folder: QueueFolderOption
        @OptionGroup var output: OutputOption

        func run() async throws {
            let entry = try folder.queue(config).entry(id)
            if output.json {
                Terminal.print(entry.json.formatted(indent: 2))
                return
            }
            var rows: [(String, String)] = [
                ("id", entry.id), ("state", entry.state.rawValue), ("rule", "\(entry.rule), action \(entry.actionIndex + 1) (\(entry.action))"),
                ("target", TargetCheck.quoted(entry.place, limit: 400)), ("record", entry.archiveKey), ("source", entry.source),
                ("attempts", "\(entry.attempts) of \(entry.maxAttempts)"), ("created", QueueTime.text(entry.createdAt)),
            ]
            if QueueState.waiting.contains(entry.state) { rows.append(("next attempt", QueueTime.text(entry.nextAttemptAt))) }
            if let until = entry.leasedUntil { rows.append(("leased", "until \(QueueTime.text(until)) by \(entry.leaseOwner ?? "?")")) }
            if let completed = entry.completedAt { rows.append((entry.state == .cancelled ? "cancelled" : "completed", QueueTime.text(completed))) }
            if let outcome = entry.outcome { rows.append(("outcome", outcome.serialized)) }
            if let error = entry.lastError { rows.append(("last error", "\(entry.lastErrorCode ?? ""): \(TargetCheck.printable(error, limit: 400))")) }
            Terminal.print(alignedRows(rows))
            if !entry.errors.isEmpty {
                Terminal.print("\nerrors:")
                let lines = entry.errors.map { error in
                    ["  " + error.at, "attempt \(error.attempt)", error.code + (error.httpStatus.map { " (HTTP \($0))" } ?? ""), TargetCheck.printable(error.error, limit: 300)]
                }
                TextTable().lines(lines).forEach(Terminal.print)
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A CSV line per finished entry, in the columns of an S3 Batch Operations completion report.",
            discussion: """
                Columns (no header line, as S3 writes them): Bucket, Key, VersionId, TaskStatus, ErrorCode, \
                HTTPStatusCode, ResultMessage. Completed entries are succeeded, parked ones failed with their last \
                error; entries still waiting or running are left out. For a folder root the bucket is empty and the \
                key is the path.

                EXAMPLES:
                  archiver queue report --config archiver.yml > report.csv
                  archiver queue report --failed-only --rule upload-files --config archiver.yml
                """)
        @OptionGroup var config: ConfigOption
        @OptionGroup var folder: QueueFolderOption
        @Flag(help: "Only failed (parked) entries.") var failedOnly = false
        @Option(help: ArgumentHelp("Only entries of this rule.", valueName: "rule")) var rule: String?

        func run() async throws {
            let queue = try folder.queue(config)
            var lines: [String] = []
            try queue.each(QueueFilter(states: QueueReport.states(failedOnly: failedOnly), rule: rule)) { entry in
                lines.append(QueueReport.line(entry))
                if lines.count == 1000 {
                    Terminal.print(lines.joined(separator: "\n"))
                    lines.removeAll()
                }
            }
            if !lines.isEmpty { Terminal.print(lines.joined(separator: "\n")) }
        }
    }
}

/// Text of the queue commands.
enum QueueText {
    /// `1,234,567`.
    static func count(_ value: Int) -> String {
        let digits = String(value)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    /// `45 s`, `12 min`, `3.5 h`, `2.0 days`.
    static func age(_ seconds: Double) -> String {
        let s = max(0, seconds)
        if s < 90 { return String(format: "%.0f s", s) }
        if s < 5400 { return String(format: "%.0f min", s / 60) }
        if s < 172_800 { return String(format: "%.1f h", s / 3600) }
        return String(format: "%.1f days", s / 86_400)
    }

    /// `1 action was` / `3 actions were`.
    static func actions(_ count: Int) -> String { count == 1 ? "1 action was" : "\(QueueText.count(count)) actions were" }

    /// ` --config <file>` when a file was named, to repeat in a hint.
    static func configArgument(_ config: ConfigOption) -> String {
        config.path.map { " --config \($0)" } ?? ""
    }
}
