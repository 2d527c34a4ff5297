import ArchiverCore
import ArchiverSQLite
import ArgumentParser
import Foundation

extension Archiver {
    /// `archiver sqlite`: set up an application's SQLite database so its deletions can be archived.
    struct SQLite: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sqlite",
            abstract: "Record the deletions of a SQLite application table, and expire its rows by TTL.",
            discussion: """
                `init` adds a change table and a delete trigger to the database; `archiver tail --source sqlite:<db>` \
                then archives every deleted row. `expire` deletes rows whose TTL has passed, recorded as TTL expiries.

                EXAMPLES:
                  archiver sqlite init app.db --table users --ttl-column expires_at
                  archiver sqlite expire app.db --table users
                  archiver tail --source sqlite:app.db --archive ./archive
                """,
            subcommands: [Init.self, Expire.self])
    }
}

extension Archiver.SQLite {
    /// `archiver sqlite init <db> --table <name> [--ttl-column <col>]`.
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add the change table and a delete trigger for a table to an existing database.",
            discussion: """
                Safe to run again; run it again after changing the table's columns so the trigger records them all.

                EXAMPLES:
                  archiver sqlite init app.db --table users
                  archiver sqlite init app.db --table sessions --ttl-column expires_at --json
                """)

        @Argument(help: ArgumentHelp("The application's SQLite database (it must exist).", valueName: "db"))
        var database: String

        @Option(name: .long, help: ArgumentHelp("The table whose deleted rows are recorded.", valueName: "name"))
        var table: String

        @Option(name: .long, help: ArgumentHelp("The column holding each row's expiry in epoch seconds, for `archiver sqlite expire`.", valueName: "col"))
        var ttlColumn: String?

        @OptionGroup var output: OutputOption

        func validate() throws {
            if table.isEmpty { throw ValidationError("--table needs a table name") }
            if ttlColumn?.isEmpty == true { throw ValidationError("--ttl-column needs a column name") }
        }

        func run() async throws {
            let report = try ChangeTable.install(databasePath: database, table: table, ttlColumn: ttlColumn)
            if output.json {
                try Terminal.printJSON(report)
                return
            }
            Terminal.print(alignedRows([
                ("database", report.databasePath),
                ("table", report.table),
                ("key", report.keyColumns.joined(separator: ", ") + (report.keyIsRowid ? " (no primary key declared)" : "")),
                ("ttl column", report.ttlColumn ?? "none"),
                ("change table", report.changeTable + (report.changeTableCreated ? " (created)" : " (kept)")),
                ("trigger", "\(report.trigger) (\(report.triggerAction.rawValue))"),
            ]))
        }
    }

    /// `archiver sqlite expire <db> --table <name> [--now <epoch>]`.
    struct Expire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete rows whose TTL column is before now, recorded as TTL expiries.",
            discussion: """
                Rows whose TTL is NULL or not a number never expire. The deletions happen in one transaction. Run it \
                from cron or a timer, as often as expiry should happen.

                EXAMPLES:
                  archiver sqlite expire app.db --table sessions
                  archiver sqlite expire app.db --table sessions --now 1705315800 --json
                """)

        @Argument(help: ArgumentHelp("The application's SQLite database.", valueName: "db"))
        var database: String

        @Option(name: .long, help: ArgumentHelp("The table to expire rows from (set up with `archiver sqlite init --ttl-column`).", valueName: "name"))
        var table: String

        @Option(name: .long, help: ArgumentHelp("The current time in epoch seconds. Default: the system clock.", valueName: "epoch"))
        var now: Double?

        @OptionGroup var output: OutputOption

        func validate() throws {
            if table.isEmpty { throw ValidationError("--table needs a table name") }
            if let now, !now.isFinite { throw ValidationError("--now must be a number of epoch seconds, such as 1705315800") }
        }

        func run() async throws {
            let moment = now.map { Date(timeIntervalSince1970: $0) } ?? Date()
            let deleted = try ChangeTable.expire(databasePath: database, table: table, now: moment)
            // The trigger records the time to the millisecond.
            let seconds = (moment.timeIntervalSince1970 * 1000).rounded() / 1000
            let nowText = seconds == seconds.rounded() ? String(Int64(seconds)) : String(seconds)
            if output.json {
                try Terminal.printJSON(ExpireResult(database: database, table: table, now: seconds, expired: deleted))
                return
            }
            Terminal.print(alignedRows([
                ("table", table),
                ("now", nowText),
                ("expired", "\(deleted) row\(deleted == 1 ? "" : "s")"),
            ]))
        }

        struct ExpireResult: Encodable {
            var database: String
            var table: String
            var now: Double
            var expired: Int
        }
    }
}
