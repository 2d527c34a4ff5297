import JSONToolkit

/// `queue:` how the deletion queue's workers run.
///
/// ```yaml
/// queue:
///   max-attempts: 3          # then the entry is parked for a person
///   batch-size: 100          # entries a worker claims at once
///   backoff: {base: 2s, max: 1h}   # before attempt n+1: random(0, min(max, base · 2^n))
///   lease: 5m                # an executing entry older than this is rescued (its worker died)
///   concurrency: 16          # S3 calls in flight
///   delay: 0s                # how long after its deletion is archived an action waits
///   poll: 1s                 # how often an idle worker looks for work
///   run-in-tail: true        # tail runs the workers while it follows
/// ```
public struct QueueSettings: Sendable, Equatable {
    public var maxAttempts = 3
    public var batchSize = 100
    public var backoffBase = ConfigurationDuration(seconds: 2)
    public var backoffMax = ConfigurationDuration(seconds: 3600)
    public var lease = ConfigurationDuration(seconds: 300)
    public var concurrency = 16
    public var delay = ConfigurationDuration(seconds: 0, text: "0s")
    public var poll = ConfigurationDuration(seconds: 1)
    public var runInTail = true

    /// The most entries one claim takes.
    public static let largestBatch = 100_000

    public init() {}

    /// Reads the section (absent: every default).
    public init(reading value: ConfigurationValue?) throws {
        self.init()
        guard let value else { return }
        let mapping = try value.mapping()
        if let v = mapping.value("max-attempts") { maxAttempts = try v.int(in: 1...1000) }
        if let v = mapping.value("batch-size") { batchSize = try v.int(in: 1...Self.largestBatch) }
        if let v = mapping.value("backoff") {
            let backoff = try v.mapping()
            if let base = backoff.value("base") { backoffBase = try base.duration() }
            if let max = backoff.value("max") { backoffMax = try max.duration() }
            try backoff.finish()
            if backoffMax.seconds < backoffBase.seconds { throw v.invalid("backoff max (\(backoffMax)) is shorter than its base (\(backoffBase))") }
        }
        if let v = mapping.value("lease") {
            lease = try v.duration()
            if lease.seconds < 1 { throw v.invalid("a lease under 1s would rescue entries while their worker is still on them") }
        }
        if let v = mapping.value("concurrency") { concurrency = try v.int(in: 1...256) }
        if let v = mapping.value("delay") { delay = try v.duration() }
        if let v = mapping.value("poll") {
            poll = try v.duration()
            if poll.seconds <= 0 { throw v.invalid("poll must be longer than 0s") }
        }
        if let v = mapping.value("run-in-tail") { runInTail = try v.bool() }
        try mapping.finish()
    }

    /// What `config check` prints.
    public var described: JSONValue {
        .object([
            ("max-attempts", .integer(maxAttempts)),
            ("batch-size", .integer(batchSize)),
            ("backoff", .object([("base", .string(backoffBase.text)), ("max", .string(backoffMax.text))])),
            ("lease", .string(lease.text)),
            ("concurrency", .integer(concurrency)),
            ("delay", .string(delay.text)),
            ("poll", .string(poll.text)),
            ("run-in-tail", .bool(runInTail)),
        ])
    }
}
