import ArchiverCore
import ArgumentParser
import Foundation

extension Archiver {
    struct DeadLetters: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dlq",
            abstract: "Look at, retry or drop the records that could not be archived.",
            subcommands: [ListEntries.self, Show.self, Retry.self, Drop.self])

        struct ListEntries: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: "List dead-letter entries.")
            @OptionGroup var state: StateOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let (entries, damaged) = try await DeadLetterFolder(stateFolder: state.state, access: .readOnly).scan()
                if output.json {
                    try Terminal.printJSON(entries.map(DeadLetterSummary.init))
                } else if entries.isEmpty && damaged.isEmpty {
                    Terminal.print("no dead letters")
                } else {
                    // Columns padded to the widest value, so that the reasons line up.
                    func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
                    let codeWidth = entries.map(\.code.count).max() ?? 0
                    let attemptsWidth = entries.map { "attempts \($0.attempts)".count }.max() ?? 0
                    let positionWidth = entries.map(\.position.count).max() ?? 0
                    for entry in entries {
                        Terminal.print("\(entry.id)  \(pad(entry.code, codeWidth))  \(pad("attempts \(entry.attempts)", attemptsWidth))  \(pad(entry.position, positionWidth))  \(entry.reason)")
                    }
                }
                try reportDamaged(damaged)
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show one entry, with the record's bytes.")
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
            static let configuration = CommandConfiguration(abstract: "Send entries through the pipeline again; those that succeed leave the folder.")
            @Argument(help: "Entry ids (all entries when none).") var ids: [String] = []
            @OptionGroup var archive: ArchiveOption
            @OptionGroup var encryption: EncryptionOption
            @OptionGroup var state: StateOption
            @OptionGroup var output: OutputOption

            func validate() throws {
                _ = try encryption.encryption(for: archive.archive)
            }

            func run() async throws {
                let folder = try DeadLetterFolder(stateFolder: state.state, access: .existing)
                let lock = try StateFolderLock(stateFolder: state.state)
                defer { withExtendedLifetime(lock) {} }
                let retry = DeadLetterRetry(
                    folder: folder,
                    store: try Wiring(logger: Terminal.logger).store(
                        try ArchiveLocation(archive.archive), serverSideEncryption: try encryption.encryption(for: archive.archive), access: .existing))
                let summary = try await retry.run(ids: ids)
                if output.json { try Terminal.printJSON(summary) } else { Terminal.print(summary.text) }
                try reportDamaged(summary.damaged)
            }
        }

        struct Drop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete an entry for good.")
            @Argument var id: String
            @OptionGroup var state: StateOption

            func run() async throws {
                let folder = try DeadLetterFolder(stateFolder: state.state, access: .existing)
                let lock = try StateFolderLock(stateFolder: state.state)
                defer { withExtendedLifetime(lock) {} }
                // A damaged entry can be dropped too: that is how one gets rid of it.
                guard try await folder.contains(id: id) else {
                    throw StateError("no dead-letter entry '\(id)' in \(folder.path); `archiver dlq list` shows them")
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
