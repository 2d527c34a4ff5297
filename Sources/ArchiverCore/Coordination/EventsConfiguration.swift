import JSONToolkit

/// `events:` where the outbox's events go, and where acknowledgements come from.
///
/// ```yaml
/// events:
///   source: archiver://uploads          # CloudEvents `source` (EventBridge `Source`: must not start with "aws.")
///   targets:                            # any number; default: one JSON-lines file in the state folder
///     - jsonl: .archiver/events.jsonl
///     - webhook: {url: "http://127.0.0.1:9000/hook", secret-file: hook.secret}
///     - eventbridge: {bus: default}
///     - sqs: {queue-url: "http://…/queue/deletions"}
///   acks:
///     sqs: {queue-url: "http://…/queue/acks", wait: 20s}
///   retry: {base: 1s, max: 5m}          # backoff between failed deliveries to a target
///   batch-size: 100                     # events a target takes at once
/// ```
public struct EventsConfiguration: Sendable, Equatable {
    /// One place events are delivered to. Its `name` keys its delivery state (`jsonl:<path>`, `webhook:<url>`, …).
    public enum Target: Sendable, Equatable {
        case jsonl(path: String)
        case webhook(url: String, secretFiles: [String], timeout: ConfigurationDuration)
        case eventBridge(bus: String, detailTypePrefix: String?)
        case sqs(queueURL: String)

        /// Names the target in the delivery state (stable: changing it starts the target's delivery from the beginning).
        public var name: String {
            switch self {
            case .jsonl(let path): "jsonl:\(path)"
            case .webhook(let url, _, _): "webhook:\(url)"
            case .eventBridge(let bus, _): "eventbridge:\(bus)"
            case .sqs(let url): "sqs:\(url)"
            }
        }

        var described: JSONValue {
            switch self {
            case .jsonl(let path): .object([("jsonl", .string(path))])
            case .webhook(let url, let secrets, let timeout):
                .object([("webhook", .object([("url", .string(url)), ("secret-files", .array(secrets.map(JSONValue.string))), ("timeout", .string(timeout.text))]))])
            case .eventBridge(let bus, let prefix):
                .object([("eventbridge", .object([("bus", .string(bus)), ("detail-type-prefix", prefix.map(JSONValue.string) ?? .null)]))])
            case .sqs(let url): .object([("sqs", .object([("queue-url", .string(url))]))])
            }
        }
    }

    /// CloudEvents `source`.
    public var source: String = "archiver"
    /// Empty: the default JSON-lines file in the state folder (``defaultFile``).
    public var targets: [Target] = []
    /// The SQS queue archiver reads `consumer.completed` events from.
    public var ackQueueURL: String?
    /// How long one ReceiveMessage waits (long polling; at most 20 s).
    public var ackWait = ConfigurationDuration(seconds: 20)
    public var retryBase = ConfigurationDuration(seconds: 1)
    public var retryMax = ConfigurationDuration(seconds: 300)
    public var batchSize = 100

    /// The events file when no target is configured, in the state folder.
    public static let defaultFile = "events.jsonl"

    public init() {}

    /// The targets, the default file in `stateFolder` when none is configured.
    public func resolvedTargets(stateFolder: String) -> [Target] {
        targets.isEmpty ? [.jsonl(path: (stateFolder.hasSuffix("/") ? stateFolder : stateFolder + "/") + Self.defaultFile)] : targets
    }

    /// Reads the section (absent: every default).
    public init(reading value: ConfigurationValue?) throws {
        self.init()
        guard let value else { return }
        let mapping = try value.mapping()
        if let v = mapping.value("source") {
            source = try v.nonEmptyString()
            if source.lowercased().hasPrefix("aws.") { throw v.invalid("'\(source)' starts with \"aws.\", which EventBridge keeps for AWS's own events; name it for your system, e.g. archiver://uploads") }
        }
        for item in try mapping.value("targets")?.list() ?? [] {
            let target = try Self.target(item)
            if targets.contains(where: { $0.name == target.name }) { throw item.invalid("the target \(target.name) is given twice") }
            targets.append(target)
        }
        if let acks = try mapping.value("acks")?.mapping() {
            if let sqs = try acks.value("sqs")?.mapping() {
                ackQueueURL = try sqs.required("queue-url", "the URL of the SQS queue consumers send consumer.completed events to").nonEmptyString()
                if let wait = sqs.value("wait") {
                    ackWait = try wait.duration()
                    if ackWait.seconds > 20 { throw wait.invalid("SQS long polling waits at most 20s") }
                }
                try sqs.finish()
            }
            try acks.finish()
        }
        if let v = mapping.value("retry") {
            let retry = try v.mapping()
            if let base = retry.value("base") { retryBase = try base.duration() }
            if let max = retry.value("max") { retryMax = try max.duration() }
            try retry.finish()
            if retryMax.seconds < retryBase.seconds { throw v.invalid("retry max (\(retryMax)) is shorter than its base (\(retryBase))") }
        }
        if let v = mapping.value("batch-size") { batchSize = try v.int(in: 1...10_000) }
        try mapping.finish()
    }

    static func target(_ value: ConfigurationValue) throws -> Target {
        let outer = try value.mapping()
        let kinds = ["jsonl", "webhook", "eventbridge", "sqs"]
        guard outer.keys.count == 1, let kind = outer.keys.first, kinds.contains(kind) else {
            try outer.finish(allow: kinds)
            throw value.invalid("a target is one of \(kinds.joined(separator: ", ")), e.g. - jsonl: .archiver/events.jsonl")
        }
        let inner = try outer.required(kind)
        defer { _ = try? outer.finish() }
        switch kind {
        case "jsonl":
            return .jsonl(path: try inner.nonEmptyString())
        case "webhook":
            let parameters = try inner.mapping()
            let urlValue = try parameters.required("url", "the endpoint events are POSTed to")
            let url = try urlValue.nonEmptyString()
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw urlValue.invalid("'\(url)' is not an http:// or https:// URL") }
            var secrets: [String] = []
            if let one = parameters.value("secret-file") { secrets.append(try one.nonEmptyString()) }
            for file in try parameters.value("secret-files")?.list() ?? [] { secrets.append(try file.nonEmptyString()) }
            if secrets.isEmpty {
                throw parameters.invalid("a webhook is signed (Standard Webhooks): give secret-file, a file holding a whsec_… secret (or secret-files: [new, old] while rotating)")
            }
            let timeout = try parameters.value("timeout")?.duration() ?? ConfigurationDuration(seconds: 10)
            try parameters.finish()
            return .webhook(url: url, secretFiles: secrets, timeout: timeout)
        case "eventbridge":
            let parameters = try inner.mapping()
            let bus = try parameters.value("bus")?.nonEmptyString() ?? "default"
            let prefix = try parameters.value("detail-type-prefix")?.nonEmptyString()
            try parameters.finish()
            return .eventBridge(bus: bus, detailTypePrefix: prefix)
        default:
            let parameters = try inner.mapping()
            let url = try parameters.required("queue-url", "the SQS queue's URL").nonEmptyString()
            try parameters.finish()
            return .sqs(queueURL: url)
        }
    }

    /// What `config check` prints (`targets` shows the default file when none is configured).
    public func described(stateFolder: String) -> JSONValue {
        .object([
            ("source", .string(source)),
            ("targets", .array(resolvedTargets(stateFolder: stateFolder).map(\.described))),
            ("acks", .object([("sqs", ackQueueURL.map { .object([("queue-url", .string($0)), ("wait", .string(ackWait.text))]) } ?? .null)])),
            ("retry", .object([("base", .string(retryBase.text)), ("max", .string(retryMax.text))])),
            ("batch-size", .integer(batchSize)),
        ])
    }
}
