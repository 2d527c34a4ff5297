import JSONToolkit

/// `erasure:` where the subject key is kept and what else an erasure deletes (the subject's application data).
///
/// ```yaml
/// erasure:
///   key-file: .archiver/subject.key          # default: <state>/subject.key, created 0600 at first use
///   actions:                                 # filled from the subject, under the roots, checked like a rule's
///     - delete-prefix: {root: uploads, prefix: "users/{subject}/", min-depth: 2}
///   rate: 2000                               # objects a second a dry run's estimate assumes (measured: see README)
///   list-objects: auto                       # or always: list an S3 archive's objects before deleting them
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
    /// `list-objects:` whether an S3 archive's objects are listed before they are deleted: `auto` only where a
    /// listing tells what the index cannot (a bucket that has had versioning, or a lifecycle rule that moves objects
    /// to another class); `always` every time, so that the receipt has each object's class, size and age as S3
    /// reports them and tells keys already gone (`absent`) apart.
    public var listObjects: ListObjects = .auto

    /// When an S3 archive's objects are listed before an erasure deletes them.
    public enum ListObjects: String, Sendable, CaseIterable {
        case auto
        case always
    }

    public static let defaultRate = 2000.0
    static let keys = ["key-file", "actions", "rate", "coordinate", "list-objects"]

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
        if let list = section.value("list-objects") {
            listObjects = ListObjects(rawValue: try list.choice(ListObjects.allCases.map(\.rawValue)))!
        }
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
            ("list-objects", .string(listObjects.rawValue)),
        ])
    }
}
