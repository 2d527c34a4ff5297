import ArchiverCore
import ArgumentParser
import Foundation

extension Archiver {
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a month of deletions into a local folder for analysis.",
            discussion: """
                Keeps the archive's layout (YYYY/MM/DD/…) and skips objects already there and identical, so \
                running it again copies only what is new or changed. --jsonl also writes the month's records, \
                decompressed, one per line (for jq, DuckDB, pandas).

                EXAMPLES:
                  archiver sync 2024-01 ./january --archive s3://archives/users
                  archiver sync 2024-01 ./january --archive ./archive --jsonl january.jsonl
                  jq -c '.dynamodb.OldImage' january.jsonl | head
                """)

        @Argument(help: ArgumentHelp("The month.", valueName: "YYYY-MM"))
        var month: Parsed<Month>

        @Argument(help: ArgumentHelp("The local folder to fill.", valueName: "local-dir"))
        var destination: String

        @OptionGroup var archive: ArchiveOption

        @Option(help: ArgumentHelp("Also write the month's records as one JSON-lines file.", valueName: "file"))
        var jsonl: String?

        @OptionGroup var limit: RecordLimitOption
        @OptionGroup var output: OutputOption
        @OptionGroup var state: StateOption

        func validate() throws {
            _ = try month.value("month")
        }

        func run() async throws {
            let wiring = Wiring(logger: Terminal.logger)
            var sync = ArchiveSync(source: try wiring.store(try archive.location), destination: try LocalArchiveStore(path: destination))
            sync.maxRecordBytes = limit.maxRecordBytes
            let progress = ProgressLine()
            let summary = try await sync.run(month: try month.value("month").description, jsonl: jsonl) { summary in
                progress.update("objects \(summary.objects)  copied \(summary.copied)  already there \(summary.skipped)")
            }
            progress.finish()
            // Where the month was copied is recorded in the state folder (when there is one): an erasure's receipt lists
            // the copies made before it that may still hold the subject's records.
            let stateFolder = state.state
            if FileSystem.isFolder(stateFolder) {
                try ErasureStore(checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false)).recordSync(
                    month: try month.value("month").description, destination: FileSystem.absolute(destination),
                    jsonl: jsonl.map(FileSystem.absolute), archive: try archive.location.description, at: Date())
            }
            if output.json { try Terminal.printJSON(summary) } else { Terminal.print(summary.text) }
        }
    }
}
