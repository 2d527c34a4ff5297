import ArchiverCore
import ArgumentParser
import Foundation

extension Archiver {
    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dlq",
            abstract: "Look at, retry or drop the records that could not be archived.",
            discussion: """
                A record the tail cannot archive (not JSON, a REMOVE without OldImage, an object the archive \
                keeps refusing, …) goes to <state>/dead-letters/ with its bytes, its source position and the \
                reason, and the tail goes on. Fix the cause, then retry: entries archived (or found not to be \
                deletions) leave the folder.

                EXAMPLES:
                  archiver dlq list --state /var/lib/archiver
                  archiver dlq show 3f2a9c0d41b7e6559a0c12d4 --state /var/lib/archiver
                  archiver dlq retry --archive s3://archives/users --state /var/lib/archiver
                  archiver dlq drop 3f2a9c0d41b7e6559a0c12d4 --state /var/lib/archiver
                """,
            subcommands: [ListEntries.self, Show.self, Retry.self, Drop.self])

        struct ListEntries: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list",
                abstract: "List dead-letter entries: id, code, attempts, source position, reason.",
                discussion: """
                    EXAMPLES:
                      archiver dlq list
                      archiver dlq list --state /var/lib/archiver --json
                    """)
            @OptionGroup var state: StateOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let (entries, damaged) = try await DeadLetterFolder(stateFolder: state.state, access: .readOnly).scan()
                if output.json {
                    try Terminal.printJSON(entries.map(DeadLetterSummary.init))
                } else if entries.isEmpty && damaged.isEmpty {
                    Terminal.print("no dead letters")
                } else {
                    let rows = entries.map { [$0.id, $0.code, "attempts \($0.attempts)", $0.position, $0.reason] }
                    TextTable().lines(rows).forEach(Terminal.print)
                }
                try reportDamaged(damaged)
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show one entry, with the record's bytes.",
                discussion: """
                    Bytes that are not UTF-8 are shown as base64; --json gives them as raw_base64.

                    EXAMPLES:
                      archiver dlq show 3f2a9c0d41b7e6559a0c12d4
                      archiver dlq show 3f2a9c0d41b7e6559a0c12d4 --json \\
                          | jq -r .raw_base64 | base64 -d
                    """)
            @Argument var id: String
            @OptionGroup var state: StateOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let entry = try await DeadLetterFolder(stateFolder: state.state, access: .readOnly).entry(id: id)
                if output.json {
                    try Terminal.printJSON(entry)
                    return
                }
                var rows = [("id", entry.id), ("source", entry.source), ("position", entry.position)]
                if let file = entry.file {
                    // The name it had when read; after a rotation the inode finds it under its new name.
                    let now = file.currentPath
                    rows.append(("file", "\(file)" + (now == file.path ? "" : now.map { ", now \($0)" } ?? ", no longer there")))
                }
                rows += [
                    ("reason", entry.reason), ("code", entry.code), ("attempts", "\(entry.attempts)"),
                    ("first failed", entry.firstFailedAt), ("last failed", entry.lastFailedAt),
                ]
                if let length = entry.recordBytes, entry.isCut {
                    rows.append(("bytes", "\(length), of which the first \(entry.raw.count) are kept"))
                    rows.append(("sha256", entry.recordSHA256 ?? ""))
                } else {
                    rows.append(("bytes", "\(entry.raw.count)"))
                }
                Terminal.print(alignedRows(rows))
                Terminal.print("")
                if let text = String(validating: entry.raw, as: UTF8.self) {
                    Terminal.print(text)
                } else {
                    Terminal.print("(not valid UTF-8; base64) " + Data(entry.raw).base64EncodedString())
                }
            }
        }

        struct Retry: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Send entries through the pipeline again; those that succeed leave the folder.",
                discussion: """
                    Entries archived now, or found not to be deletions, leave the folder; the others stay, with one \
                    more attempt counted. With deletion rules in the configuration file (--config), the actions of a \
                    record archived now are queued before its entry leaves.

                    EXAMPLES:
                      archiver dlq retry --archive ./archive
                      archiver dlq retry 3f2a9c0d41b7e6559a0c12d4 \\
                          --archive s3://archives/users --sse AES256
                    """)
            @Argument(help: "Entry ids (all entries when none).") var ids: [String] = []
            @OptionGroup var archive: ConfiguredArchiveOption
            @OptionGroup var encryption: EncryptionOption
            @OptionGroup var state: StateOption
            @OptionGroup var config: ConfigOption
            @OptionGroup var output: OutputOption

            func validate() throws {
                if let flag = archive.flag { _ = try encryption.encryption(for: try flag.value("--archive"), named: flag.text) }
            }

            func run() async throws {
                let configuration = try config.load()
                let stateFolder = state.folder(configuration)
                let (location, text) = try archive.required(configuration)
                let folder = try DeadLetterFolder(stateFolder: stateFolder, access: .existing)
                let lock = try StateFolderLock(stateFolder: stateFolder)
                defer { withExtendedLifetime(lock) {} }
                var retry = DeadLetterRetry(
                    folder: folder,
                    store: try Wiring(logger: Terminal.logger).store(
                        location, serverSideEncryption: try encryption.encryption(for: location, named: text), access: .existing))
                // Batched objects written now are catalogued, as a tail's are (a state folder without a database has none).
                if FileSystem.exists(stateFolder + "/archiver.sqlite") {
                    retry.catalogue = try CheckpointStore(stateFolder: stateFolder, verify: false)
                }
                if !configuration.rules.rules.isEmpty {
                    try QueueSetup.checkRoots(configuration, archive: location, stateFolder: stateFolder)
                    retry.actions = (
                        DeletionActions(rules: try configuration.ruleSet(stateFolder: stateFolder), queue: configuration.queue),
                        QueueStore(checkpoints: try CheckpointStore(stateFolder: stateFolder)))
                    if configuration.indexesSubjects {
                        retry.subjectIndex = ErasureStore(checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false))
                    }
                }
                let summary = try await retry.run(ids: ids)
                if output.json { try Terminal.printJSON(summary) } else { Terminal.print(summary.text) }
                try reportDamaged(summary.damaged)
            }
        }

        struct Drop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Delete an entry for good.",
                discussion: """
                    Also removes an entry that no longer reads back (`dlq list` names those).

                    EXAMPLES:
                      archiver dlq drop 3f2a9c0d41b7e6559a0c12d4 --state /var/lib/archiver
                    """)
            @Argument var id: String
            @OptionGroup var state: StateOption

            func run() async throws {
                let folder = try DeadLetterFolder(stateFolder: state.state, access: .existing)
                let lock = try StateFolderLock(stateFolder: state.state)
                defer { withExtendedLifetime(lock) {} }
                // A damaged entry can be dropped too: that is how one gets rid of it.
                guard try await folder.contains(id: id) else {
                    throw StateError.noDeadLetter(id, in: folder.path)
                }
                try await folder.remove(ids: [id])
                Terminal.print("dropped \(id)")
            }
        }
    }
}

/// Names each damaged entry file on standard error (the others were handled) and exits 1 if there is any.
private func reportDamaged(_ damaged: [DamagedDeadLetter]) throws {
    guard !damaged.isEmpty else { return }
    for entry in damaged { Terminal.printError("warning: \(entry)") }
    throw ExitCode(1)
}

/// A dead-letter entry without its bytes, for `dlq list --json`.
struct DeadLetterSummary: Encodable {
    let id, source, partition, position, reason, code: String
    let file: SourceFile?
    let attempts: Int
    /// The record's length (all of it, for an entry that keeps only its beginning).
    let bytes: Int64
    let firstFailedAt, lastFailedAt: String

    init(_ entry: DeadLetter) {
        id = entry.id
        source = entry.source
        partition = entry.partition
        position = entry.position
        file = entry.file
        reason = entry.reason
        code = entry.code
        attempts = entry.attempts
        bytes = entry.recordBytes ?? Int64(entry.raw.count)
        firstFailedAt = entry.firstFailedAt
        lastFailedAt = entry.lastFailedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, source, partition, position, file, reason, code, attempts, bytes
        case firstFailedAt = "first_failed_at"
        case lastFailedAt = "last_failed_at"
    }
}
