import ArchiverCore
import ArgumentParser

extension Archiver {
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put archived records back into a table.",
            discussion: """
                Restores one object (its key as `archiver ls` prints it) or every object under a date
                prefix. Never replaces an item that exists unless --overwrite. --to - prints each item as
                DynamoDB JSON (what `aws dynamodb put-item --item` takes).
                """)

        @Argument(help: ArgumentHelp("The archive key, relative to the archive root.", valueName: "key"))
        var key: String?

        @Option(help: ArgumentHelp("Restore every object under this date prefix.", valueName: "YYYY/MM[/DD]"))
        var prefix: String?

        @OptionGroup var archive: ArchiveOption

        @Option(help: ArgumentHelp("Where to: sqlite:<db>#<table>, dynamodb:<table>, or - for standard output.", valueName: "target"))
        var to: String

        @Flag(help: "Replace items that exist.")
        var overwrite = false

        @Flag(help: "Check each item and change nothing.")
        var dryRun = false

        @OptionGroup var limit: RecordLimitOption
        @OptionGroup var output: OutputOption

        func validate() throws {
            guard (key == nil) != (prefix == nil) else { throw ValidationError("give either an archive key or --prefix YYYY/MM[/DD]") }
            if let prefix, let problem = ArchiveRestorer.validatePrefix(prefix) { throw ValidationError(problem) }
        }

        func run() async throws {
            let logger = Terminal.logger
            let wiring = Wiring(logger: logger)
            var restorer = ArchiveRestorer(store: try wiring.store(try ArchiveLocation(archive.archive)), target: try wiring.restoreTarget(to))
            restorer.overwrite = overwrite
            restorer.maxRecordBytes = limit.maxRecordBytes
            restorer.dryRun = dryRun
            if let key {
                let outcome = try await restorer.restore(key: key)
                switch outcome {
                case .restored:
                    if to != "-" { Terminal.print("\(dryRun ? "would restore" : "restored") \(key) into \(restorer.target.location)") }
                case .exists(let message):
                    throw RestoreError(message)
                case .failed(let message):
                    throw RestoreError("cannot restore \(key): \(message)")
                }
                return
            }
            let progress = ProgressLine(enabled: to != "-")
            let summary = try await restorer.restore(prefix: prefix!) { summary in
                progress.update("restored \(summary.restored) of \(summary.total)  already there \(summary.exists)  failed \(summary.failed)")
            }
            progress.finish()
            if output.json { try Terminal.printJSON(summary) } else if to != "-" { Terminal.print(summary.text) }
            if summary.failed > 0 || summary.exists > 0 { throw ExitCode(1) }
        }
    }
}
