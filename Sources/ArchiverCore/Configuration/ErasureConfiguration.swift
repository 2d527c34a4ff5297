import JSONToolkit

/// `erasure:` where the subject key is kept and what else an erasure deletes (the subject's application data).
///
/// ```yaml
/// erasure:
///   key-file: .archiver/subject.key          # default: <state>/subject.key, created 0600 at first use
///   actions:                                 # filled from the subject, under the roots, checked like a rule's
///     - delete-prefix: {root: uploads, prefix: "users/{subject}/", min-depth: 2}
///   rate: 2000                               # objects a second a dry run's estimate assumes (measured: see README)
/// ```
public struct ErasureConfiguration: Sendable {
    /// `key-file:` the HMAC key's file (nil: `<state>/subject.key`).
    public var keyFile: String?
    /// `actions:` the subject's application data, deleted by every erasure.
    public var actions: [ActionTemplate] = []
    /// `rate:` objects a second, for a dry run's time estimate.
    public var rate: Double = ErasureConfiguration.defaultRate
    /// `coordinate:` the consumers that ack an erasure before anything is erased (nil: nobody is waited for; the
    /// `erasure.requested` and `erasure.completed` events are written all the same).
    public var coordinate: CoordinationPolicy?

    public static let defaultRate = 2000.0
    static let keys = ["key-file", "actions", "rate", "coordinate"]

    public init() {}

    /// Reads the section (absent: no actions, the default key file).
    public init(reading value: ConfigurationValue?, roots: RootsConfiguration) throws {
        guard let value else { return }
        let section = try value.mapping()
        keyFile = try section.value("key-file")?.nonEmptyString()
        for action in try section.value("actions")?.list() ?? [] {
            actions.append(try RulesConfiguration.action(action, roots: roots, subjectHoles: true))
        }
        if let rateValue = section.value("rate") {
            rate = Double(try rateValue.int(in: 1...10_000_000))
        }
        coordinate = try section.value("coordinate").map(CoordinationPolicy.init(reading:))
        try section.finish()
    }

    static func actionsDescribed(_ actions: [ActionTemplate], roots: RootsConfiguration) -> JSONValue {
        guard case .array(let rules) = RulesConfiguration([DeletionRule(name: "erasure", table: "*", actions: actions)]).described(roots: roots),
              let first = rules.first, let described = first["actions"] else { return .array([]) }
        return described
    }

    /// What `config check` prints.
    public func described(roots: RootsConfiguration) -> JSONValue {
        .object([
            ("key-file", keyFile.map(JSONValue.string) ?? .string("<state>/\(SubjectKey.defaultFileName) (default)")),
            ("actions", Self.actionsDescribed(actions, roots: roots)),
            ("rate", .integer(Int(rate))),
            ("coordinate", coordinate?.described ?? .null),
        ])
    }
}
