import ArchiverCore
import ArgumentParser
import Logging
import Foundation

extension Archiver {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List archived deletions: deletion time, manual or TTL, key.",
            discussion: """
                One line per archived deletion, in the order the deletions happened: day by day, and within a day \
                by deletion time (UTC), then by key. The key is what `archiver restore` takes; --json adds the \
                item key and the object's size.

                EXAMPLES:
                  archiver ls --archive ./archive --month 2024-01
                  archiver ls --archive s3://archives/users --date 2024-01-15 --kind ttl
                  archiver ls --archive ./archive --item 'USER#123_PROFILE'
                  archiver ls --archive ./archive --item 'USER#123_*' --json
                """)

        @OptionGroup var archive: ArchiveOption

        @Option(help: ArgumentHelp("Only this month.", valueName: "YYYY-MM"))
        var month: Parsed<Month>?

        @Option(help: ArgumentHelp("Only this day (UTC).", valueName: "YYYY-MM-DD"))
        var date: Parsed<LifecycleDay>?

        @Option(help: ArgumentHelp("Only the deletions of this item: its key values joined by _ as ls prints them; * matches anything.", valueName: "key-expr"))
        var item: String?

        @Option(help: ArgumentHelp("Only manual deletes or only TTL expiries.", valueName: "manual|ttl"))
        var kind: DeletionKind?

        @OptionGroup var output: OutputOption

        func validate() throws {
            if month != nil && date != nil { throw ValidationError("give --month or --date, not both") }
            _ = try filter()
        }

        /// The listing's filter, from the options read when the command line was parsed.
        func filter() throws -> ListingFilter {
            do {
                return try ListingFilter(
                    month: try month?.value("--month").description, date: try date?.value("--date").description, item: item, kind: kind)
            } catch let error as ListingError {
                throw ValidationError("\(error)")
            }
        }

        func run() async throws {
            let store = try Wiring(logger: Terminal.logger).store(try archive.location)
            var order = DeletionTimeOrder()
            var count = 0
            let row = TextTable(minimumWidths: [0, DeletionKind.allCases.map(\.rawValue.count).max() ?? 0])
            func emit(_ entries: [ListedDeletion]) throws {
                guard !entries.isEmpty else { return }
                var lines: [String] = []
                for entry in entries {
                    if output.json {
                        lines.append((count == 0 ? "  " : ", ") + (try Terminal.compactJSON(entry)))
                    } else {
                        lines.append(row.line([entry.deletedAt, entry.kind.rawValue, entry.key]))
                    }
                    count += 1
                }
                Terminal.print(lines.joined(separator: "\n"))
            }
            if output.json { Terminal.print("[") }
            for try await page in listDeletions(in: store, filter: try filter()) {
                try emit(order.add(page))
            }
            try emit(order.finish())
            if output.json { Terminal.print("]") } else if count == 0 { Terminal.logger.notice("no archived deletions match") }
        }
    }
}

/// Puts listed deletions in the order they happened. A store lists keys in key order, so a day's deletions come
/// together but ordered by item key; each day's are held until the next day begins, then sorted by deletion time
/// and, for deletions in the same second, by key (bytewise, as S3 orders keys). Holds one day's entries at a time.
struct DeletionTimeOrder {
    private var day: Substring?
    private var held: [ListedDeletion] = []

    /// Takes the next entries of the listing; returns those now in order (the days that have ended).
    mutating func add(_ entries: [ListedDeletion]) -> [ListedDeletion] {
        var ready: [ListedDeletion] = []
        for entry in entries {
            // `YYYY/MM/DD/`: every listed key is an archive key.
            let entryDay = entry.key.prefix(11)
            if entryDay != day {
                ready += finish()
                day = entryDay
            }
            held.append(entry)
        }
        return ready
    }

    /// The entries still held, in order.
    mutating func finish() -> [ListedDeletion] {
        defer { held = [] }
        return held.sorted { a, b in
            a.deletedAt != b.deletedAt ? a.deletedAt < b.deletedAt : a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
    }
}

extension DeletionKind: ExpressibleByArgument {}
