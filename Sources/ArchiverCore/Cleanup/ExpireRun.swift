import Foundation
import JSONToolkit
import Logging

/// An item whose time to live has passed.
public struct ExpiringItem: Sendable, Equatable {
    /// Its key, as the table takes it (raw DynamoDB JSON).
    public var keyJSON: [UInt8]
    /// Its key for people: `uploadSessionId=abc`.
    public var keyText: String
    /// The TTL attribute's value as stored (epoch seconds, decimal text).
    public var expiresAt: String

    public init(keyJSON: [UInt8], keyText: String, expiresAt: String) {
        self.keyJSON = keyJSON
        self.keyText = keyText
        self.expiresAt = expiresAt
    }
}

/// One page of a search for expired items.
public struct ExpiringPage: Sendable, Equatable {
    /// The expired items of the page.
    public var items: [ExpiringItem]
    /// How many items the page read (before filtering).
    public var scanned: Int

    public init(items: [ExpiringItem], scanned: Int) {
        self.items = items
        self.scanned = scanned
    }
}

/// What became of an item `expire` tried to delete.
public enum ExpireOutcome: Sendable, Equatable {
    /// Deleted: it was still expired (and still met the conditions) when the delete happened.
    case deleted
    /// Kept: between the search and the delete it was renewed (its TTL moved), changed so that a condition no longer
    /// holds, or deleted by someone else.
    case kept
}

/// A table whose items carry a time to live: what `archiver expire` deletes from.
public protocol ExpiringTable: Sendable {
    /// The table, for people: `dynamodb:sessions (ttl: expires_at)`.
    var description: String { get }

    /// The items whose TTL attribute is a number of epoch seconds before `now` and that meet the table's conditions,
    /// a page at a time.
    func expired(at now: Date) -> AsyncThrowingStream<ExpiringPage, any Error>

    /// Deletes `item` only if, when the delete happens, its TTL is still before `now` and it still meets the
    /// conditions (one conditional delete: no window between the check and the delete).
    /// - Returns: `.kept` when the condition no longer held.
    /// - Throws: when the delete could not be made (the item stays).
    func delete(_ item: ExpiringItem, ifStillExpiredAt now: Date) async throws -> ExpireOutcome
}

/// What an `expire` did (or, in a dry run, would do).
public struct ExpireSummary: Sendable {
    public var dryRun: Bool
    public var table: String
    public var now: Date
    public var durationSeconds: Double = 0
    /// Items read by the search.
    public var itemsScanned = 0
    /// Items found expired.
    public var itemsFound = 0
    /// Items deleted (in a dry run: that would be).
    public var itemsExpired = 0
    /// Items found expired but renewed, changed or deleted by someone else before the delete: kept.
    public var itemsRenewed = 0
    public var errors = 0
    /// The first problems met (`CleanupSummary.problemLimit`); all are counted in `errors`.
    public var problems: [CleanupProblem] = []
    /// In a dry run, the items a real run would delete.
    public var wouldExpire: [ExpiringItem] = []

    public init(dryRun: Bool, table: String, now: Date) {
        self.dryRun = dryRun
        self.table = table
        self.now = now
    }

    /// Every count with its name and what it counts, in order.
    public var named: [(name: String, help: String, value: Int64)] {
        [
            ("items_scanned", "Items read by the search for expired items.", Int64(itemsScanned)),
            ("items_found", "Items found past their time to live.", Int64(itemsFound)),
            ("items_expired", "Items deleted past their time to live.", Int64(itemsExpired)),
            ("items_renewed", "Expired items kept: renewed, changed or deleted by someone else before the delete.", Int64(itemsRenewed)),
            ("errors", "Deletes that failed.", Int64(errors)),
        ]
    }

    /// For machines (`--json`).
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("dry_run", .bool(dryRun)), ("table", .string(table)), ("now", .integer(Int64(now.timeIntervalSince1970.rounded(.down)))),
            ("duration_seconds", .number(CleanupText.seconds(durationSeconds))),
        ]
        members += named.map { ($0.name, .integer($0.value)) }
        members.append(("problems", .array(problems.map {
            .object([("subject", .string($0.subject)), ("error", .string($0.error))])
        })))
        if dryRun {
            members.append(("items", .array(wouldExpire.map {
                .object([("key", .string($0.keyText)), ("expires_at", .string($0.expiresAt))])
            })))
        }
        return .object(members)
    }

    /// For people.
    public var textLines: [String] {
        let would = dryRun ? "would be " : ""
        var rows: [(String, String)] = []
        if dryRun { rows.append(("dry run", "nothing was changed")) }
        rows += [
            ("table", table),
            ("now", "\(Int64(now.timeIntervalSince1970.rounded(.down))) (\(CleanupText.time(now)))"),
            ("items scanned", "\(itemsScanned)"),
            ("items \(would)expired", "\(itemsExpired)"),
        ]
        if !dryRun { rows.append(("items renewed", "\(itemsRenewed) (kept: renewed, changed or gone before the delete)")) }
        rows += [("errors", "\(errors)"), ("time", String(format: "%.2f s", durationSeconds))]
        var lines = alignedRows(rows).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if !problems.isEmpty {
            lines.append("")
            lines += problems.map { "error: \($0.subject): \($0.error)" }
        }
        return lines
    }

    /// The metrics of this run (`archiver_expire_…`), as `CleanupSummary.metrics`.
    public var metrics: (counters: [MetricsTextFile.Metric], gauges: [MetricsTextFile.Metric]) {
        let prefix = "archiver_expire_"
        var counters = [MetricsTextFile.Metric(name: prefix + "runs_total", help: "Expire runs (dry runs are not counted).", value: 1)]
        counters += named.map { MetricsTextFile.Metric(name: prefix + $0.name + "_total", help: $0.help, value: Double($0.value)) }
        let gauges = [
            MetricsTextFile.Metric(name: prefix + "duration_seconds", help: "How long the last expire took.", value: durationSeconds),
            MetricsTextFile.Metric(
                name: prefix + "last_run_timestamp_seconds", help: "When the last expire ended, in seconds since the epoch.",
                value: (now.timeIntervalSince1970 + durationSeconds).rounded()),
            MetricsTextFile.Metric(name: prefix + "last_run_errors", help: "Errors in the last expire.", value: Double(errors)),
        ]
        return (counters, gauges)
    }
}

/// One `archiver expire`: finds the expired items a page at a time and deletes each with a conditional delete, so an
/// item renewed in between is kept (and counted).
public struct ExpireRun: Sendable {
    public var table: any ExpiringTable
    public var dryRun: Bool
    public var clock: any WallClock
    /// Deletes in flight at once.
    public var concurrency: Int
    public var logger: Logger

    public init(table: any ExpiringTable, dryRun: Bool, clock: any WallClock = SystemClock(), concurrency: Int = 8,
                logger: Logger = Logger(label: "archiver.expire")) {
        self.table = table
        self.dryRun = dryRun
        self.clock = clock
        self.concurrency = max(1, concurrency)
        self.logger = logger
    }

    /// Runs it; `onPage` sees each page before its items are deleted (a dry run prints them there).
    /// A search that fails part-way is an error in the summary; what was deleted before stays deleted.
    public func run(onPage: @Sendable (ExpiringPage) async -> Void = { _ in }) async -> ExpireSummary {
        let now = clock.now()
        let started = ContinuousClock.now
        var summary = ExpireSummary(dryRun: dryRun, table: table.description, now: now)
        func problem(_ subject: String, _ error: any Error) {
            summary.errors += 1
            if summary.problems.count < CleanupSummary.problemLimit { summary.problems.append(CleanupProblem(root: table.description, subject: subject, error: "\(error)")) }
        }
        do {
            for try await page in table.expired(at: now) {
                await onPage(page)
                summary.itemsScanned += page.scanned
                summary.itemsFound += page.items.count
                if dryRun {
                    summary.itemsExpired += page.items.count
                    summary.wouldExpire += page.items
                    continue
                }
                for (item, outcome) in zip(page.items, await delete(page.items, now: now)) {
                    switch outcome {
                    case .success(.deleted):
                        summary.itemsExpired += 1
                        logger.info("expired an item", metadata: ["expire.table": "\(table.description)", "expire.key": "\(item.keyText)", "expire.ttl": "\(item.expiresAt)"])
                    case .success(.kept):
                        summary.itemsRenewed += 1
                        logger.info("kept an item renewed or changed since it was found", metadata: ["expire.key": "\(item.keyText)"])
                    case .failure(let error):
                        problem(item.keyText, error)
                    }
                }
            }
        } catch {
            problem("search", error)
        }
        let elapsed = ContinuousClock.now - started
        // To the millisecond, the same in the summary and in the metrics file.
        summary.durationSeconds = ((Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) * 1000).rounded() / 1000
        return summary
    }

    private func delete(_ items: [ExpiringItem], now: Date) async -> [Result<ExpireOutcome, any Error>] {
        let table = self.table
        return await withTaskGroup(of: (Int, Result<ExpireOutcome, any Error>).self) { group in
            var outcomes = [Result<ExpireOutcome, any Error>](repeating: .failure(NoAnswer()), count: items.count)
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask { (index, await Result(awaiting: { try await table.delete(items[index], ifStillExpiredAt: now) })) }
            }
            while next < items.count && next < concurrency { add() }
            while let (index, outcome) = await group.next() {
                outcomes[index] = outcome
                if next < items.count { add() }
            }
            return outcomes
        }
    }
}
