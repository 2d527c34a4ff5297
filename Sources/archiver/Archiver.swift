import ArgumentParser

@main
struct Archiver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep every record an application deletes.",
        discussion: """
            Tails a DynamoDB-Streams-shaped change feed (a JSON-lines file, a SQLite change table or the \
            DynamoDB Streams API), archives each deleted record whole (gzip) under <archive>/YYYY/MM/DD/ in a \
            folder or an S3 bucket, dead-letters what it cannot archive, and brings records back. \
            `archiver help <subcommand>` shows a subcommand's options and examples.

            EXAMPLES:
              archiver tail --source jsonl:feed.jsonl --archive ./archive --once
              archiver ls --archive ./archive --month 2024-01 --kind ttl
              archiver restore 2024/01/15/USER#123_PROFILE.103000.1100.manual.json.gz \\
                  --archive ./archive --to dynamodb:users
              archiver dlq list
              archiver cleanup s3://user-content/uploads/ --key-pattern '*/{sessionId}.*' \\
                  --owner dynamodb:UploadSessions --dry-run
            """,
        subcommands: [Tail.self, Serve.self, List.self, Restore.self, Sync.self, DeadLetters.self, Queue.self, Ack.self, Coordination.self, Erase.self, Index.self, Catalogue.self, Lifecycle.self, SQLite.self, Cleanup.self, Expire.self, Config.self, Generate.self])
}
