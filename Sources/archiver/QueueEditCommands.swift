import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit

extension Archiver.Queue {
    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make entries available again now: by id, --parked, or everything a filter selects.",
            discussion: """
                Parked, retrying, scheduled and cancelled entries are made available at once; one that used up its \
                attempts gets one more, and keeps its error history. Completed, executing and held entries are left alone \
                (a held entry has not failed: it waits for its coordination's consumers).

                EXAMPLES:
                  archiver queue retry 3f2a9c0d41b7e655 --config archiver.yml
                  archiver queue retry --parked --config archiver.yml
                  archiver queue retry --state retryable --rule upload-files \\
                      --config archiver.yml
                """)
        @Argument(help: "Entry ids (or their first characters).") var ids: [String] = []
        @Flag(help: "Every parked entry (the same as --state parked).") var parked = false
        @OptionGroup var filter: QueueFilterOption
        @OptionGroup var config: ConfigOption
        @OptionGroup var folder: QueueFolderOption
        @OptionGroup var output: OutputOption

        func validate() throws {
            if ids.isEmpty && !parked && filter.isEmpty {
                throw ValidationError("name the entries: ids, --parked, or a filter (--state, --rule)")
            }
        }

        func run() async throws {
            let queue = try folder.queue(config)
            let changed = try queue.retry(try filter.filter(ids: ids, extraStates: parked ? [.parked] : [], queue: queue), now: Date())
            try QueueText.report(changed, verb: "retried", leftAlone: "completed, executing or held", json: output.json,
                                 held: "a held entry has not failed: it waits for its coordination's consumers (`archiver coordination list --state waiting`)")
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel entries that have not run to completion: they never will.",
            discussion: """
                Acts on waiting, parked and held entries; completed and executing ones are left alone. A cancelled entry \
                stays in the queue (`queue retry` brings it back) until `queue drop` or `queue prune`. A held entry's \
                coordination still waits for its consumers, and its `deletion.completed` lists the action as cancelled. \
                An erasure job's id (er-…, as `queue list` shows it) cancels the job as `erase cancel` does: a \
                scheduled or due job at once, a running one at its next clean point (`erase resume` continues it).

                EXAMPLES:
                  archiver queue cancel 3f2a9c0d41b7e655 --config archiver.yml
                  archiver queue cancel er-5d0c2e9a17b34f61 --config archiver.yml
                  archiver queue cancel --state parked --rule avatars --config archiver.yml
                """)
        @Argument(help: "Entry ids (or their first characters).") var ids: [String] = []
        @OptionGroup var filter: QueueFilterOption
        @OptionGroup var config: ConfigOption
        @OptionGroup var folder: QueueFolderOption
        @OptionGroup var output: OutputOption

        func validate() throws {
            if ids.isEmpty && filter.isEmpty { throw ValidationError("name the entries: ids, or a filter (--state, --rule)") }
        }

        func run() async throws {
            let queue = try folder.queue(config)
            let jobPrefixes = ids.filter { $0.hasPrefix("er-") }
            let entryIDs = ids.filter { !$0.hasPrefix("er-") }
            var jobs: [ErasureJob] = []
            if !jobPrefixes.isEmpty {
                let erasures = try folder.erasures(config)
                for prefix in jobPrefixes {
                    let matches = try erasures.jobIDs(startingWith: prefix)
                    guard matches.count == 1 else {
                        throw ValidationError(matches.isEmpty
                            ? "no erasure job '\(prefix)' in the state folder; `archiver erase list` shows them"
                            : "'\(prefix)' names \(matches.count) erasure jobs; give more of the id")
                    }
                    jobs.append(try erasures.cancel(matches[0], at: Date()))
                }
            }
            var changed = QueueStore.Changed(changed: 0, leftAlone: 0)
            if !entryIDs.isEmpty || jobPrefixes.isEmpty {
                changed = try queue.cancel(try filter.filter(ids: entryIDs, queue: queue), now: Date())
            }
            if output.json && !jobs.isEmpty {
                let members: [(String, JSONValue)] = [
                    ("cancelled", .integer(changed.changed)), ("left_alone", .integer(changed.leftAlone)),
                    ("erasure_jobs", .array(jobs.map { .object([("job", .string($0.id)), ("state", .string($0.state.rawValue)), ("cancel_requested", .bool($0.cancelRequested))]) })),
                ]
                Terminal.print(JSONValue.object(members).formatted(indent: 2))
                return
            }
            if !entryIDs.isEmpty || jobs.isEmpty {
                try QueueText.report(changed, verb: "cancelled", leftAlone: "completed, cancelled or executing", json: output.json)
            }
            for job in jobs {
                Terminal.print(job.state == .cancelled
                    ? "cancelled erasure job \(job.id)"
                    : "erasure job \(job.id) is \(job.state.rawValue): it stops at its next clean point (archiver erase status \(job.id))")
            }
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete entries from the queue for good (not executing or held ones).",
            discussion: """
                EXAMPLES:
                  archiver queue drop 3f2a9c0d41b7e655 --config archiver.yml
                  archiver queue drop --state cancelled --config archiver.yml
                """)
        @Argument(help: "Entry ids (or their first characters).") var ids: [String] = []
        @OptionGroup var filter: QueueFilterOption
        @OptionGroup var config: ConfigOption
        @OptionGroup var folder: QueueFolderOption
        @OptionGroup var output: OutputOption

        func validate() throws {
            if ids.isEmpty && filter.isEmpty { throw ValidationError("name the entries: ids, or a filter (--state, --rule)") }
        }

        func run() async throws {
            let queue = try folder.queue(config)
            let changed = try queue.drop(try filter.filter(ids: ids, queue: queue))
            try QueueText.report(changed, verb: "dropped", leftAlone: "executing or held", json: output.json,
                                 held: "a held entry belongs to its coordination's record: `queue cancel` it, or `archiver coordination cancel <id>`, then drop it")
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete completed and cancelled entries finished longer ago than an age (retention).",
            discussion: """
                EXAMPLES:
                  archiver queue prune --completed-before 30d --config archiver.yml
                  archiver queue prune --completed-before 12h \\
                      --state-folder /var/lib/archiver --json
                """)
        @Option(help: ArgumentHelp("Entries completed or cancelled longer ago than this: 30d, 12h, 90m.", valueName: "age"))
        var completedBefore: Parsed<Age>
        @OptionGroup var config: ConfigOption
        @OptionGroup var folder: QueueFolderOption
        @OptionGroup var output: OutputOption

        func validate() throws { _ = try completedBefore.value("--completed-before") }

        func run() async throws {
            let age = try completedBefore.value("--completed-before")
            let cutoff = Date().addingTimeInterval(-age.seconds)
            let pruned = try folder.queue(config).prune(finishedBefore: cutoff)
            if output.json {
                try Terminal.printJSON(["pruned": pruned])
            } else {
                Terminal.print("pruned \(QueueText.count(pruned)) entries finished before \(QueueTime.text(cutoff))")
            }
        }
    }
}

extension QueueText {
    /// What a bulk command did.
    /// - Parameter held: why held entries were left alone, and what to do instead (printed when some were).
    static func report(_ changed: QueueStore.Changed, verb: String, leftAlone: String, json: Bool, held: String? = nil) throws {
        if json {
            var object: [String: Int] = [verb: changed.changed, "left_alone": changed.leftAlone]
            if held != nil { object["held_left_alone"] = changed.held }
            try Terminal.printJSON(object)
            return
        }
        Terminal.print("\(verb) \(count(changed.changed)) entr\(changed.changed == 1 ? "y" : "ies")"
            + (changed.leftAlone > 0 ? "; left alone \(count(changed.leftAlone)) (\(leftAlone))" : ""))
        if let held, changed.held > 0 {
            Terminal.print("\(count(changed.held)) of them held: \(held)")
        }
    }
}
