import ArchiverAWS
import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit

extension Archiver {
    /// `archiver expire dynamodb:<table> --ttl-attribute <a>`: delete the items whose TTL has passed, now.
    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the DynamoDB items whose TTL has passed, now (DynamoDB's own TTL can take days).",
            discussion: """
                Scans the table for items whose TTL attribute (a number of epoch seconds) is before now and that meet \
                every --where, and deletes each with a DeleteItem conditional on the same: an item renewed (or changed) \
                between the scan and the delete is kept, and counted as renewed. As `archiver sqlite expire` does for a \
                SQLite table.

                With a stream on the table, these deletions reach `archiver tail` as manual REMOVEs, not TTL ones: \
                DynamoDB marks only its own TTL deletions as made by its service. They are archived with kind manual.

                EXAMPLES:
                  archiver expire dynamodb:UploadSessions --ttl-attribute ttl --dry-run
                  archiver expire dynamodb:UploadSessions --ttl-attribute ttl \\
                      --where 'status!=uploaded'
                  archiver expire dynamodb:carts --ttl-attribute expires_at \\
                      --where 'kind=guest' --json \\
                      --metrics-file /var/lib/node_exporter/archiver_expire.prom
                """)

        @Argument(help: ArgumentHelp("The table: dynamodb:<table>.", valueName: "table"))
        var table: String

        @Option(help: ArgumentHelp("The attribute holding each item's expiry, in epoch seconds (a number).", valueName: "attribute"))
        var ttlAttribute: String

        @Option(name: .customLong("where"), help: ArgumentHelp("Only items where <attribute>=<value> (or !=); repeatable. A plain value is text; write {\"N\":\"3\"} for a number.", valueName: "condition"))
        var conditions: [Parsed<DynamoDBAttributeCondition>] = []

        @Flag(help: "Print the items a real run would delete; delete nothing.")
        var dryRun = false

        @Option(help: ArgumentHelp("Write the counts in Prometheus text format to this file (atomically).", valueName: "file"))
        var metricsFile: String?

        @OptionGroup var config: ConfigOption
        @OptionGroup var output: OutputOption

        func validate() throws {
            _ = try tableName
            if ttlAttribute.isEmpty { throw ValidationError("--ttl-attribute needs the name of the attribute holding the expiry") }
            for condition in conditions { _ = try condition.value("--where") }
        }

        /// The table named by `dynamodb:<table>`.
        var tableName: String {
            get throws {
                if table.hasPrefix("sqlite:") {
                    throw ValidationError("for a SQLite table, use `archiver sqlite expire <db> --table <table>`")
                }
                guard table.hasPrefix("dynamodb:"), table.count > "dynamodb:".count else {
                    throw ValidationError("'\(table)' is not a DynamoDB table; write dynamodb:<table>")
                }
                return String(table.dropFirst("dynamodb:".count))
            }
        }

        func run() async throws {
            let logger = Terminal.logger
            _ = try config.load()
            let expiring = try Wiring(logger: logger).expiringTable(
                try tableName, ttlAttribute: ttlAttribute, conditions: try conditions.map { try $0.value("--where") })
            let listItems = dryRun && !output.json
            let summary = await ExpireRun(table: expiring, dryRun: dryRun, logger: logger).run { page in
                guard listItems else { return }
                for item in page.items { Terminal.print("would expire  \(item.keyText)  (ttl \(item.expiresAt))") }
            }
            if let metricsFile {
                if dryRun {
                    Terminal.printError("note: a dry run leaves the metrics file \(metricsFile) as it is")
                } else {
                    let metrics = summary.metrics
                    try MetricsTextFile(path: metricsFile).write(counters: metrics.counters, gauges: metrics.gauges)
                }
            }
            if output.json {
                Terminal.print(summary.json.formatted(indent: 2))
            } else {
                if listItems && summary.itemsExpired > 0 { Terminal.print("") }
                summary.textLines.forEach(Terminal.print)
            }
            if summary.errors > 0 { throw ExitCode(1) }
        }
    }
}

/// `--where status!=uploaded`.
extension DynamoDBAttributeCondition: CommandLineValue {
    init(commandLine text: String) throws { try self.init(parsing: text) }
}
