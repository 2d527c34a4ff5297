import ArchiverCore
import FeedGenerator
import ArgumentParser
import Foundation

extension Archiver {
    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a realistic change feed (JSON lines) to standard output, for tests and benchmarks.",
            discussion: """
                DynamoDB-Streams-shaped records: INSERT, MODIFY and REMOVE about 35/25/40, a third of the REMOVEs \
                TTL expiries; items of every DynamoDB type, some unicode and awkward key values; most records 200 B \
                to 2 KiB, about 1% 10 to 50 KiB, about 0.05% over 100 KiB; increasing sequence numbers; event times \
                spread over the days given. The same options give the same bytes.

                --summary writes the counts by kind and size, and the summary a tail of the feed must report \
                (archived, archived_manual, archived_ttl, passed_over, dead_lettered), for benchmarks and tests.

                EXAMPLES:
                  archiver generate --records 1000 > feed.jsonl
                  archiver generate --records 1000000 --seed 7 \\
                      --summary expected.json > feed.jsonl
                  archiver tail --once --source jsonl:feed.jsonl --archive null: --json
                """)

        @Option(help: "How many records to write.")
        var records: Int

        @Option(help: "The seed of every random choice: the same seed gives the same feed, byte for byte.")
        var seed: UInt64 = 1

        @Option(help: ArgumentHelp("The first day of the event times, UTC.", valueName: "YYYY-MM-DD"))
        var start = "2024-01-01"

        @Option(help: "Over how many days the event times spread.")
        var days = 7

        @Option(help: ArgumentHelp("Also write what was generated (counts by kind, sizes, expected tail summary) as JSON to this file.", valueName: "file"))
        var summary: String?

        func validate() throws {
            guard records >= 0 else { throw ValidationError("--records must be 0 or more") }
            do {
                _ = try FeedGenerator(seed: seed, startDate: start, days: days)
            } catch {
                throw ValidationError("\(error)")
            }
        }

        func run() async throws {
            let generator = try FeedGenerator(seed: seed, startDate: start, days: days)
            let output = FileDescriptorOutput.standardOutput
            let result: FeedSummary
            do {
                result = try generator.write(records: records) { try output.write($0) }
            } catch is OutputClosed {
                return
            }
            if let summary { try result.write(toFile: summary) }
        }
    }
}
