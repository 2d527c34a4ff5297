import JSONToolkit

/// A rule's `coordinate:` section: the consumers that must finish their work before the rule's actions run.
///
/// ```yaml
/// coordinate:
///   consumers:
///     - {name: analytics, critical: false}            # optional: its timeout lets the deletion proceed, with a warning
///     - {name: billing, critical: true, timeout: 1h}  # critical: its timeout parks the coordination for a person
///   timeout: 5m          # how long a consumer is waited for (its own `timeout` overrides it); a heartbeat restarts it
///   heartbeat-cap: 1h    # no heartbeat extends a wait past this long after the coordination was made
/// ```
///
/// The model is Step Functions' `waitForTaskToken`: a consumer's `timeout` is its heartbeat timeout (each
/// heartbeat gives it that long again), `heartbeat-cap` the task's total timeout.
public struct CoordinationPolicy: Sendable, Equatable {
    /// What a consumer's timeout does.
    public enum OnTimeout: String, Sendable, CaseIterable {
        /// The consumer is no longer waited for (logged and counted as a warning).
        case proceed
        /// The coordination is parked: its actions stay held until a person releases or cancels it.
        case park
    }

    /// One expected consumer.
    public struct Consumer: Sendable, Equatable {
        /// Unique within the rule; the name acks give with `--consumer`.
        public var name: String
        /// A critical consumer's `failed` ack or timeout parks the coordination; an optional one's is logged and counted.
        public var critical: Bool
        /// How long it is waited for (and how long each heartbeat extends the wait).
        public var timeout: ConfigurationDuration
        /// What its timeout does (default: `proceed` for an optional consumer, `park` for a critical one).
        public var onTimeout: OnTimeout

        public init(name: String, critical: Bool, timeout: ConfigurationDuration, onTimeout: OnTimeout? = nil) {
            self.name = name
            self.critical = critical
            self.timeout = timeout
            self.onTimeout = onTimeout ?? (critical ? .park : .proceed)
        }
    }

    public var consumers: [Consumer]
    /// The default wait for a consumer.
    public var timeout: ConfigurationDuration
    /// The absolute limit of any wait, from the coordination's creation.
    public var heartbeatCap: ConfigurationDuration

    public static let defaultTimeout = ConfigurationDuration(seconds: 300)
    public static let defaultHeartbeatCap = ConfigurationDuration(seconds: 3600)

    public init(consumers: [Consumer], timeout: ConfigurationDuration = defaultTimeout, heartbeatCap: ConfigurationDuration = defaultHeartbeatCap) {
        self.consumers = consumers
        self.timeout = timeout
        self.heartbeatCap = heartbeatCap
    }

    /// The consumer named `name`.
    public subscript(name: String) -> Consumer? { consumers.first { $0.name == name } }

    /// Reads a rule's `coordinate:`. Consumers are named (unique), timeouts are positive and within the cap.
    public init(reading value: ConfigurationValue) throws {
        let mapping = try value.mapping()
        let timeout = try mapping.value("timeout")?.duration() ?? Self.defaultTimeout
        if let v = mapping.value("timeout"), timeout.seconds < 1 { throw v.invalid("a timeout under 1s would give no consumer a chance to answer") }
        let cap = try mapping.value("heartbeat-cap")?.duration() ?? ConfigurationDuration(seconds: max(Self.defaultHeartbeatCap.seconds, timeout.seconds))
        let consumersValue = try mapping.required("consumers", "list the consumers to wait for, e.g. - {name: analytics, critical: false}")
        var consumers: [Consumer] = []
        for item in try consumersValue.list() {
            let consumer: ConfigurationMapping
            if case .scalar = item.node {
                // `- analytics`: an optional consumer with the default timeout.
                let name = try item.nonEmptyString()
                guard RulesConfiguration.isValidName(name) else { throw item.invalid("'\(name)' is not a consumer name (letters, digits, '-', '_' and '.', at most 64)") }
                if consumers.contains(where: { $0.name == name }) { throw item.invalid("the consumer '\(name)' is given twice") }
                consumers.append(Consumer(name: name, critical: false, timeout: timeout))
                continue
            }
            consumer = try item.mapping()
            let nameValue = try consumer.required("name", "every consumer has a name, the one its acks give with --consumer")
            let name = try nameValue.nonEmptyString()
            guard RulesConfiguration.isValidName(name) else { throw nameValue.invalid("'\(name)' is not a consumer name (letters, digits, '-', '_' and '.', at most 64)") }
            if consumers.contains(where: { $0.name == name }) { throw nameValue.invalid("the consumer '\(name)' is given twice") }
            let critical = try consumer.value("critical")?.bool() ?? false
            var own = timeout
            if let v = consumer.value("timeout") {
                own = try v.duration()
                if own.seconds < 1 { throw v.invalid("a timeout under 1s would give the consumer no chance to answer") }
                if own.seconds > cap.seconds { throw v.invalid("\(own) is longer than the heartbeat-cap (\(cap)); raise heartbeat-cap or shorten the timeout") }
            }
            let onTimeout = try consumer.value("on-timeout").map { OnTimeout(rawValue: try $0.choice(OnTimeout.allCases.map(\.rawValue)))! }
            try consumer.finish()
            consumers.append(Consumer(name: name, critical: critical, timeout: own, onTimeout: onTimeout))
        }
        if consumers.isEmpty { throw consumersValue.invalid("a coordination waits for at least one consumer") }
        if cap.seconds < timeout.seconds {
            throw (mapping.value("heartbeat-cap") ?? value).invalid("the heartbeat-cap (\(cap)) is shorter than the timeout (\(timeout)); it must be at least as long")
        }
        try mapping.finish()
        self.init(consumers: consumers, timeout: timeout, heartbeatCap: cap)
    }

    /// What `config check` prints.
    public var described: JSONValue {
        .object([
            ("consumers", .array(consumers.map { consumer in
                .object([
                    ("name", .string(consumer.name)), ("critical", .bool(consumer.critical)),
                    ("timeout", .string(consumer.timeout.text)), ("on-timeout", .string(consumer.onTimeout.rawValue)),
                ])
            })),
            ("timeout", .string(timeout.text)),
            ("heartbeat-cap", .string(heartbeatCap.text)),
        ])
    }
}
