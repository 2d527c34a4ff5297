import JSONToolkit

/// One rule of `rules:`: which deletions it matches and the actions that follow them.
///
/// ```yaml
/// - name: upload-files
///   match:
///     table: uploads          # the record's table, or "*"
///     kind: any               # manual | ttl | any
///     where:
///       - "OldImage.status.S == uploaded"
///   actions:
///     - delete-object: {root: uploads, key: "{OldImage.key.S}", keep: true}
///     - delete-prefix: {root: uploads, prefix: "users/{OldImage.userId.S}/", min-depth: 2}
///     - abort-multipart: {root: uploads, key: "{OldImage.key.S}", upload-id: "{OldImage.s3UploadId.S}"}
/// ```
public struct DeletionRule: Sendable, Equatable {
    /// Which deletions a rule takes, by kind.
    public enum KindMatch: String, Sendable {
        case any, manual, ttl

        func matches(_ kind: DeletionKind) -> Bool {
            switch self {
            case .any: true
            case .manual: kind == .manual
            case .ttl: kind == .ttl
            }
        }
    }

    /// Unique; named in queue entries and in the reasons of parked ones.
    public var name: String
    /// The table (from the record's `eventSourceARN`, or the source's table), or `*` for every table.
    public var table: String
    public var kind: KindMatch
    /// All must hold.
    public var conditions: [RuleCondition]
    public var actions: [ActionTemplate]
    /// `coordinate:` the consumers that finish their work before the actions run (nil: the actions run at once).
    public var coordinate: CoordinationPolicy?
    /// Who the records the rule matches belong to (`subject:`), filled from the record: their archive keys are
    /// indexed under the subject's HMAC, so `archiver erase --subject` finds them without a scan. Nil: not indexed.
    public var subject: Template?

    public init(name: String, table: String, kind: KindMatch = .any, conditions: [RuleCondition] = [], actions: [ActionTemplate],
                coordinate: CoordinationPolicy? = nil, subject: Template? = nil) {
        self.coordinate = coordinate
        self.subject = subject
        self.name = name
        self.table = table
        self.kind = kind
        self.conditions = conditions
        self.actions = actions
    }

    /// Whether the rule takes a deletion of `kind` whose record is `image`.
    public func matches(kind deletion: DeletionKind, image: RecordImage) -> Bool {
        kind.matches(deletion) && conditions.allSatisfy { $0.holds(for: image) }
    }
}

/// `rules:` what follows a deletion, read and checked against the roots.
public struct RulesConfiguration: Sendable, Equatable {
    public var rules: [DeletionRule]

    public init(_ rules: [DeletionRule] = []) { self.rules = rules }

    /// Reads the section (absent: no rules). Every action names a root of `roots`, its templates depend on the
    /// record and could be safe under that root, and rule names are unique.
    public init(reading value: ConfigurationValue?, roots: RootsConfiguration) throws {
        rules = []
        for item in try value?.list() ?? [] {
            let mapping = try item.mapping()
            let nameValue = try mapping.required("name", "every rule has a unique name")
            let name = try nameValue.nonEmptyString()
            guard Self.isValidName(name) else {
                throw nameValue.invalid("'\(name)' is not a rule name (letters, digits, '-', '_' and '.', at most 64)")
            }
            if rules.contains(where: { $0.name == name }) { throw nameValue.invalid("a rule named '\(name)' is given twice") }
            let match = try mapping.required("match", "say which deletions the rule takes (at least its table)").mapping()
            let table = try match.required("table", "the table's name, or \"*\" for every table").nonEmptyString()
            let kind = try match.value("kind").map { DeletionRule.KindMatch(rawValue: try $0.choice(["any", "manual", "ttl"]))! } ?? .any
            var conditions: [RuleCondition] = []
            for condition in try match.value("where")?.list() ?? [] {
                do {
                    conditions.append(try RuleCondition(try condition.nonEmptyString()))
                } catch let error as RuleTextError {
                    throw condition.invalid(error.description)
                }
            }
            try match.finish()
            var subject: Template?
            if let subjectValue = mapping.value("subject") {
                do {
                    subject = try Template(try subjectValue.nonEmptyString())
                } catch let error as RuleTextError {
                    throw subjectValue.invalid(error.description)
                }
                if subject!.isConstant {
                    throw subjectValue.invalid("'\(subject!)' has no {…} hole, so every record would belong to one subject; fill it from the record, e.g. {Keys.PK.S|strip-prefix:USER#}")
                }
            }
            var actions: [ActionTemplate] = []
            let actionsValue = subject == nil ? try mapping.required("actions", "a rule names at least one action, or a subject") : mapping.value("actions")
            if let actionsValue {
                for action in try actionsValue.list() {
                    actions.append(try Self.action(action, roots: roots))
                }
                if actions.isEmpty && subject == nil { throw actionsValue.invalid("a rule names at least one action, or a subject") }
            }
            let coordinate = try mapping.value("coordinate").map(CoordinationPolicy.init(reading:))
            try mapping.finish()
            rules.append(DeletionRule(name: name, table: table, kind: kind, conditions: conditions, actions: actions,
                                      coordinate: coordinate, subject: subject))
        }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isASCIIAlphanumeric(first), name.utf8.count <= 64 else { return false }
        return name.utf8.allSatisfy { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// Reads one action: a mapping of one key, the action's kind, to its parameters.
    static func action(_ value: ConfigurationValue, roots: RootsConfiguration, subjectHoles: Bool = false) throws -> ActionTemplate {
        let outer = try value.mapping()
        let kinds = ActionKind.allCases.map(\.rawValue)
        guard outer.keys.count == 1, let kindText = outer.keys.first else {
            throw value.invalid("an action is one of \(kinds.joined(separator: ", ")) with its parameters, e.g. - delete-object: {root: uploads, key: \"{OldImage.key.S}\"}")
        }
        guard let kind = ActionKind(rawValue: kindText) else {
            try outer.finish(allow: kinds)
            throw value.invalid("unknown action '\(kindText)'")
        }
        let parameters = try outer.required(kindText).mapping()
        let rootValue = try parameters.required("root", "the name of one of the roots (\(roots.names.joined(separator: ", ")))")
        let rootName = try rootValue.nonEmptyString()
        guard let root = roots[rootName] else {
            throw rootValue.invalid(
                roots.roots.isEmpty
                    ? "no roots are configured; add a roots: section naming '\(rootName)'"
                    : "'\(rootName)' is not one of the roots (\(roots.names.joined(separator: ", ")))")
        }
        func template(_ key: String, shape: TargetCheck.Shape) throws -> Template {
            let field = try parameters.required(key)
            let template: Template
            do {
                template = try Template(try field.nonEmptyString(), subjectHoles: subjectHoles)
            } catch let error as RuleTextError {
                throw field.invalid(error.description)
            }
            if template.isConstant {
                throw field.invalid("'\(template)' has no {…} hole, so it would name the same target for every deletion; fill it from the record, e.g. {OldImage.key.S}")
            }
            if key != "upload-id", let problem = TargetCheck.problem(template.sample(), shape: shape == .object ? .object : .prefix(minDepth: 1), root: root) {
                throw field.invalid("'\(template)' can never be safe under \(root): filled, \(problem)")
            }
            return template
        }
        let action: ActionTemplate
        switch kind {
        case .deleteObject:
            action = .deleteObject(root: rootName, key: try template("key", shape: .object), keep: try parameters.value("keep")?.bool() ?? false)
        case .deletePrefix:
            let prefix = try template("prefix", shape: .prefix(minDepth: 1))
            let minDepth = try parameters.value("min-depth")?.int(in: 1...100) ?? 1
            action = .deletePrefix(root: rootName, prefix: prefix, minDepth: minDepth, keep: try parameters.value("keep")?.bool() ?? false)
        case .abortMultipart:
            guard root.isS3 else { throw rootValue.invalid("abort-multipart needs an S3 root; '\(rootName)' is the folder \(root)") }
            action = .abortMultipart(root: rootName, key: try template("key", shape: .object), uploadID: try template("upload-id", shape: .object))
        }
        try parameters.finish()
        try outer.finish()
        return action
    }

    /// What `config check` prints: every rule with its matches and its actions with the resolved roots.
    public func described(roots: RootsConfiguration) -> JSONValue {
        .array(rules.map { rule in
            .object([
                ("name", .string(rule.name)),
                ("match", .object([
                    ("table", .string(rule.table)), ("kind", .string(rule.kind.rawValue)),
                    ("where", .array(rule.conditions.map { .string($0.description) })),
                ])),
                ("subject", rule.subject.map { .string($0.description) } ?? .null),
                ("actions", .array(rule.actions.map { action in
                    var parameters: [(String, JSONValue)] = [("root", .string(action.root))]
                    parameters.append(("root-location", .string(roots[action.root]?.description ?? "")))
                    for (name, template) in action.templates { parameters.append((name, .string(template.description))) }
                    switch action {
                    case .deleteObject(_, _, let keep): parameters.append(("keep", .bool(keep)))
                    case .deletePrefix(_, _, let minDepth, let keep):
                        parameters.append(("min-depth", .integer(minDepth)))
                        parameters.append(("keep", .bool(keep)))
                    case .abortMultipart: break
                    }
                    return .object([(action.kind.rawValue, .object(parameters))])
                })),
                ("coordinate", rule.coordinate?.described ?? .null),
            ])
        })
    }
}
