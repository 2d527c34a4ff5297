import Foundation
import JSONToolkit

/// What a cleanup did (or, in a dry run, would do): the totals, the counts of each place, the problems met and, in a
/// dry run, every action.
public struct CleanupSummary: Sendable {
    public var dryRun: Bool
    public var startedAt: Date
    public var durationSeconds: Double
    public var totals = CleanupCounts()
    /// Each place (root, archive folder, state folder) with its counts, in the order they were cleaned.
    public var places: [(place: String, counts: CleanupCounts)] = []
    /// The first `problemLimit` problems; `problemsLeftOut` counts the rest.
    public var problems: [CleanupProblem] = []
    public var problemsLeftOut = 0
    /// In a dry run, what a real run would do, in order.
    public var actions: [(place: String, action: CleanupAction)] = []

    /// The most problems kept for the summary (all are counted).
    public static let problemLimit = 100

    public init(dryRun: Bool, startedAt: Date, durationSeconds: Double = 0) {
        self.dryRun = dryRun
        self.startedAt = startedAt
        self.durationSeconds = durationSeconds
    }

    /// Adds what was done (or would be) in `place`.
    public mutating func add(_ counts: CleanupCounts, problems more: [CleanupProblem], in place: String) {
        totals += counts
        if let index = places.firstIndex(where: { $0.place == place }) {
            places[index].counts += counts
        } else {
            places.append((place, counts))
        }
        let room = max(0, Self.problemLimit - problems.count)
        problems += more.prefix(room)
        problemsLeftOut += max(0, more.count - room)
    }

    /// For machines (`--json`): the counts at the top level, then each place, the problems, and a dry run's actions.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("dry_run", .bool(dryRun)),
            ("started_at", .string(CleanupText.time(startedAt))),
            ("duration_seconds", .number(CleanupText.seconds(durationSeconds))),
        ]
        members += totals.named.map { ($0.name, .integer($0.value)) }
        members.append(("places", .array(places.map { place in
            .object([("place", .string(place.place))] + place.counts.named.map { ($0.name, .integer($0.value)) })
        })))
        members.append(("problems", .array(problems.map { problem in
            .object([("place", .string(problem.root)), ("subject", .string(problem.subject)), ("error", .string(problem.error))])
        })))
        if problemsLeftOut > 0 { members.append(("problems_left_out", .integer(problemsLeftOut))) }
        if dryRun {
            members.append(("actions", .array(actions.map { place, action in
                .object([
                    ("action", .string(action.name)), ("target", .string(action.target(in: place))), ("bytes", .integer(action.bytes)),
                    ("detail", .string(action.detail)),
                ])
            })))
        }
        return .object(members)
    }

    /// The metrics of this run for a metrics file: each count as `archiver_cleanup_<name>_total`, a `runs_total`, and
    /// gauges for the last run (`duration_seconds`, `last_run_timestamp_seconds`, `last_run_errors`).
    public var metrics: (counters: [MetricsTextFile.Metric], gauges: [MetricsTextFile.Metric]) {
        let prefix = "archiver_cleanup_"
        var counters = [MetricsTextFile.Metric(name: prefix + "runs_total", help: "Cleanup runs (dry runs are not counted).", value: 1)]
        counters += totals.named.map { MetricsTextFile.Metric(name: prefix + $0.name + "_total", help: $0.help, value: Double($0.value)) }
        let gauges = [
            MetricsTextFile.Metric(name: prefix + "duration_seconds", help: "How long the last cleanup took.", value: durationSeconds),
            MetricsTextFile.Metric(
                name: prefix + "last_run_timestamp_seconds", help: "When the last cleanup ended, in seconds since the epoch.",
                value: (startedAt.timeIntervalSince1970 + durationSeconds).rounded()),
            MetricsTextFile.Metric(name: prefix + "last_run_errors", help: "Errors in the last cleanup.", value: Double(totals.errors)),
        ]
        return (counters, gauges)
    }

    /// For people: short and aligned, the lines that are not zero (but the seed's main counts always).
    public var textLines: [String] {
        let t = totals
        let would = dryRun ? "would be " : ""
        var rows: [(String, String)] = []
        if dryRun { rows.append(("dry run", "nothing was changed")) }
        rows.append(("items checked", "\(t.itemsChecked)"))
        rows.append(("objects examined", "\(t.objectsExamined)"))
        rows.append(("objects \(would)deleted", "\(t.objectsDeleted)"))
        var kept: [String] = []
        if t.objectsOwned > 0 { kept.append("\(t.objectsOwned) owned") }
        if t.objectsTooRecent > 0 { kept.append("\(t.objectsTooRecent) too recent") }
        if t.objectsUnmatched > 0 { kept.append("\(t.objectsUnmatched) without an owner id in the key") }
        if t.objectsKeptOnLookupError > 0 { kept.append("\(t.objectsKeptOnLookupError) on a lookup error") }
        if !kept.isEmpty { rows.append(("objects kept", kept.joined(separator: ", "))) }
        rows.append(("uploads \(would)aborted", "\(t.multipartUploadsAborted)"))
        if t.uploadsKeptForReview > 0 { rows.append(("uploads for review", "\(t.uploadsKeptForReview) (hold parts; --abort-partial aborts them)")) }
        if t.uploadsTooRecent > 0 { rows.append(("uploads too recent", "\(t.uploadsTooRecent)")) }
        if t.temporaryFilesRemoved > 0 { rows.append(("temporary files \(would)removed", "\(t.temporaryFilesRemoved)")) }
        if t.deadLettersRemoved > 0 { rows.append(("dead letters \(would)removed", "\(t.deadLettersRemoved)")) }
        if t.queueEntriesRemoved > 0 { rows.append(("queue entries \(would)removed", "\(t.queueEntriesRemoved)")) }
        rows.append(("bytes \(would)freed", ByteSize.text(t.bytesFreed)))
        rows.append(("errors", "\(t.errors)"))
        rows.append(("time", String(format: "%.2f s", durationSeconds)))
        var lines = alignedRows(rows).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if !problems.isEmpty {
            lines.append("")
            lines += problems.map { "error: \($0.subject) in \($0.root): \($0.error)" }
            if problemsLeftOut > 0 { lines.append("… and \(problemsLeftOut) more (--json lists the first \(Self.problemLimit))") }
        }
        return lines
    }
}

/// Times and durations as cleanup writes them.
public enum CleanupText {
    /// `2024-01-15T10:30:00Z`.
    public static func time(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    /// Seconds with three decimals, as a JSON number.
    public static func seconds(_ value: Double) -> String {
        String(format: "%.3f", value.isFinite ? max(0, value) : 0)
    }

    /// A dry run's line for an action: `would delete  s3://b/k  (12.0 MiB, …)`.
    public static func line(_ action: CleanupAction, in place: String, dryRun: Bool) -> String {
        let verb = dryRun ? action.verb.dryRun : action.verb.done
        return "\(verb)  \(action.target(in: place))  (\(action.detail))"
    }
}
