import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit
import Logging

extension Archiver {
    /// `archiver ack`: a consumer's acknowledgement of a coordinated deletion.
    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Acknowledge a coordinated deletion for one consumer (or send its heartbeat).",
            discussion: """
                The coordination id is the coordination_id of the deletion.requested event. An ack is idempotent; an ack \
                after the coordination was decided is recorded as late. --heartbeat extends the consumer's wait by its \
                timeout, never past the rule's heartbeat-cap.

                With --file (- for standard input), each line is an ack: {"coordination_id": …, "consumer": …, \
                "status": "completed"|"failed", "detail": …, "heartbeat": true|false}, or a consumer.completed \
                CloudEvent whose data holds those fields; all are recorded in one transaction.

                EXAMPLES:
                  archiver ack 5e0b41c2 --consumer analytics --config archiver.yml
                  archiver ack 5e0b41c2 --consumer billing --status failed \\
                      --detail "ledger locked" --config archiver.yml
                  archiver ack 5e0b41c2 --consumer billing --heartbeat
                  archiver ack --file acks.jsonl --config archiver.yml
                """)
        @Argument(help: "The id, or its first 16 or more digits.") var id: String?
        @Option(help: ArgumentHelp("The consumer's name, as the rule's coordinate.consumers names it.", valueName: "name")) var consumer: String?
        @Option(help: ArgumentHelp("A file of acks, one JSON object a line (- for standard input).", valueName: "file")) var file: String?
        @Option(help: ArgumentHelp("completed (default) or failed.", valueName: "status")) var status = "completed"
        @Option(help: ArgumentHelp("What the consumer has to say (kept with the ack).", valueName: "text")) var detail: String?
        @Flag(help: "Extend the consumer's wait instead of answering.") var heartbeat = false
        @OptionGroup var config: ConfigOption
        @OptionGroup var folder: QueueFolderOption
        @OptionGroup var output: OutputOption

        func validate() throws {
            guard AckStatus(rawValue: status) != nil else { throw ValidationError("--status must be completed or failed, not '\(status)'") }
            if file == nil {
                guard id != nil, consumer != nil else { throw ValidationError("give a coordination id and --consumer <name> (or --file with many acks)") }
            } else if id != nil || consumer != nil {
                throw ValidationError("--file takes the ids and consumers from the file; give no id or --consumer with it")
            }
        }

        func run() async throws {
            let configuration = try config.load()
            let store = try CoordinationStore.open(stateFolder: folder.folder(configuration), eventSource: configuration.events.source)
            if let file {
                try runFile(file, store: store)
                return
            }
            let id = self.id!, consumer = self.consumer!
            let result: AckResult
            do {
                result = try store.ack(id, consumer: consumer, status: AckStatus(rawValue: status)!, detail: detail, heartbeat: heartbeat, now: Date())
            } catch let error as CoordinationError {
                throw ValidationError(error.description)
            }
            if output.json {
                Terminal.print(JSONValue.object([
                    ("coordination", .string(id)), ("consumer", .string(consumer)), ("outcome", .string(result.outcome.rawValue)),
                    ("state", .string(result.state.rawValue)), ("deadline", result.deadline.map { .string(QueueTime.text($0)) } ?? .null),
                ]).formatted(indent: 2))
                return
            }
            let text: String
            switch result.outcome {
            case .recorded: text = "recorded; the coordination is \(result.state.rawValue)"
            case .duplicate: text = "already recorded; nothing changed (the coordination is \(result.state.rawValue))"
            case .late: text = "recorded as late: the coordination is \(result.state.rawValue) already"
            case .heartbeat: text = "the wait for \(consumer) is extended to \(result.deadline.map(QueueTime.text) ?? "?")"
            }
            Terminal.print(text)
        }

        private func runFile(_ file: String, store: CoordinationStore) throws {
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let read = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(FileSystem.absolute(file))") }
                data = read
            }
            var acks: [ReceivedAck] = []
            for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let text = line.trimmingCharacters(in: .whitespaces)
                guard !text.isEmpty else { continue }
                guard let value = try? JSONValue.parse(text) else { throw ValidationError("\(file):\(number + 1): not JSON") }
                let ack: ReceivedAck?
                if value["specversion"] != nil {
                    ack = CloudEvent(envelope: value).flatMap(ReceivedAck.init(event:))
                } else {
                    ack = ReceivedAck(event: CloudEvent(id: "-", source: "", type: CoordinationEvents.consumerCompleted, subject: "", time: "", data: value))
                }
                guard let ack else {
                    throw ValidationError("\(file):\(number + 1): an ack needs coordination_id and consumer (and status completed or failed)")
                }
                acks.append(ack)
            }
            var counts: [String: Int] = [:]
            var refused: [String] = []
            for result in try store.ack(acks, now: Date()) {
                switch result {
                case .success(let done): counts[done.outcome.rawValue, default: 0] += 1
                case .failure(let error):
                    counts["refused", default: 0] += 1
                    if refused.count < 10 { refused.append(error.description) }
                }
            }
            let names = ["recorded", "duplicate", "late", "heartbeat", "refused"]
            if output.json {
                Terminal.print(JSONValue.object(names.map { ($0, .integer(counts[$0] ?? 0)) } + [("errors", .array(refused.map(JSONValue.string)))]).formatted(indent: 2))
            } else {
                Terminal.print(alignedRows(names.map { ($0, "\(counts[$0] ?? 0)") }))
                for reason in refused { Terminal.print("refused: \(reason)") }
            }
            if (counts["refused"] ?? 0) > 0 { throw ExitCode(1) }
        }
    }

    /// `archiver coordination …`: coordinated deletions.
    struct Coordination: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Coordinated deletions: list, show, decide parked ones, run the coordinator.",
            discussion: """
                EXAMPLES:
                  archiver coordination list --state waiting --config archiver.yml
                  archiver coordination show 5e0b41c2 --config archiver.yml
                """,
            subcommands: [ListCoordinations.self, Show.self, Run.self, Release.self, Cancel.self])

        struct ListCoordinations: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "list", abstract: "List coordinations, newest first: id, state, rule, awaited consumers, time left.",
                discussion: """
                    EXAMPLES:
                      archiver coordination list --config archiver.yml
                      archiver coordination list --state parked --json --config archiver.yml
                    """)
            @Option(name: .customLong("state"), help: ArgumentHelp("waiting, released, timed-out, completed or parked.", valueName: "state"))
            var state: String?
            @Option(help: ArgumentHelp("The most shown.", valueName: "n")) var limit = 100
            @OptionGroup var config: ConfigOption
            @OptionGroup var folder: QueueFolderOption
            @OptionGroup var output: OutputOption

            func validate() throws {
                if let state, CoordinationState(rawValue: state) == nil {
                    throw ValidationError("--state must be one of \(CoordinationState.allCases.map(\.rawValue).joined(separator: ", ")), not '\(state)'")
                }
            }

            func run() async throws {
                let configuration = try config.load()
                let store = try CoordinationStore.open(stateFolder: folder.folder(configuration))
                let views = try store.list(state: state.flatMap(CoordinationState.init(rawValue:)), limit: limit)
                let now = Date()
                if output.json {
                    Terminal.print(JSONValue.array(views.map { $0.json(now: now) }).formatted(indent: 2))
                    return
                }
                let rows = views.map { view in
                    [String(view.id.prefix(16)), view.state.rawValue, view.rule, view.awaited.isEmpty ? "-" : view.awaited.joined(separator: ","),
                     view.nextDeadline.map { QueueText.age(max(0, $0.timeIntervalSince(now))) } ?? "-", view.archiveKey]
                }
                Terminal.print(rows.isEmpty ? "no coordinations" : TextTable().lines([["ID", "STATE", "RULE", "AWAITED", "LEFT", "ARCHIVE KEY"]] + rows).joined(separator: "\n"))
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "One coordination: who acked when, who is awaited, time left, its actions.",
                discussion: """
                    EXAMPLES:
                      archiver coordination show 5e0b41c2 --config archiver.yml
                      archiver coordination show 5e0b41c2 --json --config archiver.yml
                    """)
            @Argument(help: "The id, or its first 16 or more digits.") var id: String
            @OptionGroup var config: ConfigOption
            @OptionGroup var folder: QueueFolderOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let configuration = try config.load()
                let store = try CoordinationStore.open(stateFolder: folder.folder(configuration))
                let view: CoordinationView
                do { view = try store.show(id) } catch let error as CoordinationError { throw ValidationError(error.description) }
                let now = Date()
                if output.json {
                    Terminal.print(view.json(now: now).formatted(indent: 2))
                    return
                }
                var rows: [(String, String)] = [
                    ("id", view.id), ("state", view.state.rawValue + (view.reason.map { " (\($0))" } ?? "")), ("rule", view.rule),
                    ("archive key", view.archiveKey), ("created", QueueTime.text(view.createdAt)),
                    ("time left", view.nextDeadline.map { QueueText.age(max(0, $0.timeIntervalSince(now))) } ?? "-"),
                ]
                for consumer in view.consumers {
                    var text = consumer.status.rawValue + (consumer.critical ? " (critical)" : "")
                    if let at = consumer.ackedAt { text += " at \(QueueTime.text(at))" }
                    if consumer.status == .waiting { text += ", until \(QueueTime.text(consumer.deadline))" }
                    if consumer.heartbeats > 0 { text += ", \(consumer.heartbeats) heartbeat(s)" }
                    if let detail = consumer.detail { text += ": \(detail)" }
                    if let late = consumer.lateStatus { text += "; late ack \(late)" }
                    rows.append(("consumer \(consumer.name)", text))
                }
                for action in view.actions { rows.append(("action \(action.action)", "\(action.state)  \(action.id.prefix(16))")) }
                Terminal.print(alignedRows(rows))
            }
        }

        struct Run: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Run the coordinator: acks from the acks queue, timeouts, completions, delivery of events.",
                discussion: """
                    `tail` and `queue run` run it beside the queue's workers; this runs it alone (--once: one pass, \
                    for cron; without it, until SIGINT or SIGTERM).

                    EXAMPLES:
                      archiver coordination run --once --config archiver.yml
                      archiver coordination run --config archiver.yml
                    """)
            @Flag(help: "One pass, then exit.") var once = false
            @OptionGroup var config: ConfigOption
            @OptionGroup var folder: QueueFolderOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let configuration = try config.load()
                let stateFolder = folder.folder(configuration)
                let queue = try QueueStore.open(stateFolder: stateFolder)
                let logger = Terminal.logger
                guard let coordinator = try QueueSetup.coordinator(configuration, queue: queue, stateFolder: stateFolder, logger: logger, always: true) else { return }
                let stop = StopSignal()
                let signals = Terminal.stopOnSignals(stop)
                defer { signals.forEach { $0.cancel() } }
                let done = try await coordinator.run(stop: stop, once: once, poll: configuration.queue.poll.seconds)
                let rows: [(String, String)] = [
                    ("acks", "\(done.acks)"), ("timed out", "\(done.tick.timedOutConsumers) consumer(s)"), ("released", "\(done.tick.released)"),
                    ("parked", "\(done.tick.parked)"), ("completed", "\(done.tick.completed)"), ("events delivered", "\(done.delivery.delivered)"),
                ]
                if output.json {
                    Terminal.print(JSONValue.object(rows.map { ($0.0.replacingOccurrences(of: " ", with: "_"), .string($0.1)) }).formatted(indent: 2))
                } else {
                    Terminal.print(alignedRows(rows))
                }
            }
        }

        /// A person's decision on coordination `id` (or its first digits): release its actions, or cancel them.
        static func resolve(_ id: String, release: Bool, config: ConfigOption, folder: QueueFolderOption) throws {
            let configuration = try config.load()
            let store = try CoordinationStore.open(stateFolder: folder.folder(configuration), eventSource: configuration.events.source)
            do { _ = try store.resolve(try store.show(id).id, release: release, now: Date()) } catch let error as CoordinationError {
                throw ValidationError(error.description)
            }
        }

        struct Release: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Release a parked (or waiting) coordination's actions anyway.",
                discussion: """
                    EXAMPLES:
                      archiver coordination release 5e0b41c2 --config archiver.yml
                      archiver coordination list --state parked --config archiver.yml
                    """)
            @Argument(help: "The id, or its first 16 or more digits.") var id: String
            @OptionGroup var config: ConfigOption
            @OptionGroup var folder: QueueFolderOption

            func run() async throws {
                try Coordination.resolve(id, release: true, config: config, folder: folder)
                Terminal.print("released: its actions are in the queue")
            }
        }

        struct Cancel: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Cancel a parked (or waiting) coordination's actions; nothing is deleted.",
                discussion: """
                    EXAMPLES:
                      archiver coordination cancel 5e0b41c2 --config archiver.yml
                      archiver coordination list --state parked --config archiver.yml
                    """)
            @Argument(help: "The id, or its first 16 or more digits.") var id: String
            @OptionGroup var config: ConfigOption
            @OptionGroup var folder: QueueFolderOption

            func run() async throws {
                try Coordination.resolve(id, release: false, config: config, folder: folder)
                Terminal.print("cancelled: its actions will not run")
            }
        }
    }
}
