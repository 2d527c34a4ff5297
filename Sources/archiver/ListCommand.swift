import ArchiverCore
import ArgumentParser
import Logging
import Foundation

extension Archiver {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List archived deletions: key, deletion time, manual or TTL, item key.")

        @OptionGroup var archive: ArchiveOption

        @Option(help: ArgumentHelp("Only this month.", valueName: "YYYY-MM"))
        var month: String?

        @Option(help: ArgumentHelp("Only this day.", valueName: "YYYY-MM-DD"))
        var date: String?

        @Option(help: ArgumentHelp("Only the deletions of this item: its key values joined by _ as ls prints them; * matches anything.", valueName: "key-expr"))
        var item: String?

        @Option(help: ArgumentHelp("Only manual deletes or only TTL expiries.", valueName: "manual|ttl"))
        var kind: DeletionKind?

        @OptionGroup var output: OutputOption

        func validate() throws {
            if month != nil && date != nil { throw ValidationError("give --month or --date, not both") }
            do { _ = try ListingFilter(month: month, date: date, item: item) } catch { throw ValidationError("\(error)") }
        }

        func run() async throws {
            let store = try Wiring(logger: Terminal.logger).store(try ArchiveLocation(archive.archive))
            let filter = try ListingFilter(month: month, date: date, item: item, kind: kind)
            var count = 0
            if output.json { Terminal.print("[") }
            for try await page in listDeletions(in: store, filter: filter) {
                var lines: [String] = []
                for entry in page {
                    if output.json {
                        lines.append((count == 0 ? "  " : ", ") + (try Terminal.compactJSON(entry)))
                    } else {
                        lines.append("\(entry.deletedAt)  \(entry.kind.rawValue.padding(toLength: 6, withPad: " ", startingAt: 0))  \(entry.key)")
                    }
                    count += 1
                }
                Terminal.print(lines.joined(separator: "\n"))
            }
            if output.json { Terminal.print("]") } else if count == 0 { Terminal.logger.notice("no archived deletions match") }
        }
    }
}

extension DeletionKind: ExpressibleByArgument {}
