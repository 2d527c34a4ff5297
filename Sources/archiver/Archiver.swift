import ArgumentParser

@main
struct Archiver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep every record an application deletes.",
        discussion: """
            Tails a DynamoDB-Streams-shaped change feed, archives each deleted record whole (gzip) under
            <archive>/YYYY/MM/DD/, dead-letters what it cannot archive, and brings records back.
            """,
        subcommands: [Tail.self, List.self, Restore.self, Sync.self, DeadLetters.self, Lifecycle.self, SQLite.self, Generate.self])
}
