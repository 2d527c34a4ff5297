import Foundation
import Crypto
import JSONToolkit

/// A queue entry planned for one archived deletion: one action of one rule, its target filled and checked.
public struct PlannedEntry: Sendable, Equatable {
    /// SHA-256 of (source, archive key, rule, action index), hex: a replayed record plans the same ids.
    public var id: String
    public var rule: String
    /// The action's place in its rule's list, from 0.
    public var actionIndex: Int
    public var kind: ActionKind
    /// The root's name.
    public var root: String
    /// The `target` column: the filled parameters and the root's location (see ``DeletionTarget/json(rootLocation:)``).
    public var target: JSONValue {
        didSet { targetText = target.serialized }
    }
    /// ``target`` as JSON text, written when the entry is planned (on a worker thread, not on the commit path).
    public private(set) var targetText: String
    /// The source the record came from.
    public var source: String
    /// The record's archive object.
    public var archiveKey: String
    /// Why the entry may never run (an unfillable template, a target outside its root): it is enqueued parked,
    /// with this reason. Nil for an entry ready to run.
    public var unsafe: String?
    /// The coordination that must release it (its rule has `coordinate:`): it is enqueued `held`.
    public var hold: String?
    /// On the first entry of a coordinated rule's entries for a record: the coordination to write with them, packed
    /// for the batch's coordination log on the worker thread that planned it.
    public var coordination: PackedCoordination?

    public init(id: String, rule: String, actionIndex: Int, kind: ActionKind, root: String, target: JSONValue, source: String,
                archiveKey: String, unsafe: String?) {
        self.id = id
        self.rule = rule
        self.actionIndex = actionIndex
        self.kind = kind
        self.root = root
        self.target = target
        self.targetText = target.serialized
        self.source = source
        self.archiveKey = archiveKey
        self.unsafe = unsafe
    }

    /// The id of action `actionIndex` of `rule` for the record archived at `archiveKey` from `source`.
    public static func id(source: String, archiveKey: String, rule: String, actionIndex: Int) -> String {
        hex(SHA256.hash(data: Array("\(source)\n\(archiveKey)\n\(rule)\n\(actionIndex)".utf8)))
    }
}

/// The configured rules, ready for the pipeline's processing stage: finds a record's rules by table and plans
/// its queue entries. Records of tables without rules cost a dictionary lookup, and nothing at all when no rule
/// is configured.
public struct RuleSet: Sendable {
    let rules: [DeletionRule]
    let roots: RootsConfiguration
    /// The CloudEvents `source` of the events coordinations write.
    let eventSource: String
    /// The key subjects are hashed with; nil: subjects are not indexed (no rule names one, or no key given).
    let subjectKey: SubjectKey?
    /// Rule indexes by table; wildcard rules are in every list, in the order the configuration writes them.
    private let byTable: [String: [Int]]
    private let wildcard: [Int]
    /// The tables named by rules, as UTF-8, for matching a record's ARN without decoding it.
    private let tableNames: [(name: String, bytes: [UInt8])]
    /// Whether each rule reads the record's `OldImage` (a condition, an action or its subject does); a record all of
    /// whose rules read only its `Keys` is decoded that far only.
    private let readsOldImage: [Bool]
    /// Whether each rule only names a subject from the record's `Keys` (no condition, action or coordination): for
    /// a record all of whose rules do, the subject is read from the `Keys` bytes where they stand, nothing decoded.
    private let subjectFromKeysOnly: [Bool]

    /// The longest filled value an entry keeps; a longer one (always unsafe) is cut, marked `cut`, and never runs.
    static let longestStoredValue = 2048

    public init(rules: RulesConfiguration, roots: RootsConfiguration, eventSource: String = EventsConfiguration().source,
                subjectKey: SubjectKey? = nil) {
        self.rules = rules.rules
        self.roots = roots
        self.eventSource = eventSource
        self.subjectKey = rules.rules.contains { $0.subject != nil } ? subjectKey : nil
        wildcard = rules.rules.indices.filter { rules.rules[$0].table == "*" }
        var byTable: [String: [Int]] = [:]
        for (index, rule) in rules.rules.enumerated() where rule.table != "*" {
            byTable[rule.table, default: []].append(index)
        }
        for table in byTable.keys { byTable[table] = (byTable[table]! + wildcard).sorted() }
        self.byTable = byTable
        tableNames = byTable.keys.sorted().map { ($0, Array($0.utf8)) }
        readsOldImage = rules.rules.map { rule in
            let paths = rule.conditions.map(\.path) + rule.actions.flatMap { $0.templates.flatMap { $0.1.paths } } + (rule.subject?.paths ?? [])
            return paths.contains { $0.image == .oldImage }
        }
        subjectFromKeysOnly = rules.rules.map { rule in
            rule.conditions.isEmpty && rule.actions.isEmpty && rule.coordinate == nil && (rule.subject?.paths ?? []).allSatisfy { $0.image == .keys }
        }
    }

    /// No rules at all.
    public var isEmpty: Bool { rules.isEmpty }

    private func indexes(forTable table: String?) -> [Int] {
        guard let table else { return wildcard }
        return byTable[table] ?? wildcard
    }

    /// Whether any rule may take a record of `table` (nil: a record whose table is not known, taken by `*` rules only).
    public func hasRules(forTable table: String?) -> Bool { !indexes(forTable: table).isEmpty }

    /// What a record's `eventSourceARN` means for the rules.
    public enum ARNTable: Sendable, Equatable {
        /// No rule takes a record of that table: nothing more to do.
        case noRule
        /// The record's table (nil: the ARN names none).
        case table(String?)
    }

    /// The table of a record whose `eventSourceARN` is the raw JSON string `raw` (quotes included). An ARN without
    /// escapes (all of them, in practice) is matched against the rules' tables byte for byte, so a record of a table
    /// without rules costs no allocation.
    public func table(inRawARN raw: UnsafeRawBufferPointer) -> ARNTable {
        guard raw.count >= 2 else { return .table(nil) }
        let body = UnsafeRawBufferPointer(rebasing: raw[1..<(raw.count - 1)])
        if body.contains(UInt8(ascii: "\\")) {
            let text = (try? RawJSON.string(Array(raw), in: 0..<raw.count)).flatMap(tableName(fromARN:))
            return hasRules(forTable: text) ? .table(text) : .noRule
        }
        let marker = Array(":table/".utf8)
        var start: Int?
        if body.count >= marker.count {
            for index in 0...(body.count - marker.count) where body[index] == marker[0] {
                if marker.indices.allSatisfy({ body[index + $0] == marker[$0] }) {
                    start = index + marker.count
                    break
                }
            }
        }
        guard let start else { return wildcard.isEmpty ? .noRule : .table(nil) }
        var end = start
        while end < body.count && body[end] != UInt8(ascii: "/") { end += 1 }
        let name = UnsafeRawBufferPointer(rebasing: body[start..<end])
        for table in tableNames where table.bytes.count == name.count && table.bytes.elementsEqual(name) {
            return .table(table.name)
        }
        guard !wildcard.isEmpty else { return .noRule }
        return .table(name.isEmpty ? nil : String(decoding: name, as: UTF8.self))
    }

    /// Plans the entries for one archived deletion.
    /// - Parameters:
    ///   - record: the record's bytes; its `Keys` and `OldImage` are decoded only when a rule may take it.
    ///   - scanned: what the scanner read from it.
    ///   - table: the record's table.
    ///   - archiveKey: the key of its archive object.
    ///   - source: the source's id.
    public func plan(record: UnsafeRawBufferPointer, scanned: ScannedRecord, table: String?, archiveKey: String, source: String) -> [PlannedEntry] {
        planWithSubject(record: record, scanned: scanned, table: table, archiveKey: archiveKey, source: source).entries
    }

    /// Plans the entries for one archived deletion, and the HMAC of its subject: the subject template of the first
    /// rule that takes the record and names one, filled (nil when none does, or it cannot be filled).
    public func planWithSubject(record: UnsafeRawBufferPointer, scanned: ScannedRecord, table: String?, archiveKey: String,
                                source: String) -> (entries: [PlannedEntry], subject: String?) {
        let candidates = indexes(forTable: table)
        guard !candidates.isEmpty else { return ([], nil) }
        if candidates.allSatisfy({ subjectFromKeysOnly[$0] }) {
            return ([], subjectFromKeys(record: record, scanned: scanned, candidates: candidates))
        }
        let image: RecordImage
        do {
            image = try RecordImage(
                record: record, keysRange: scanned.keysRange,
                oldImageRange: candidates.contains { readsOldImage[$0] } ? scanned.oldImageRange : nil)
        } catch {
            // Conditions cannot be read: every action of every rule that may take the record waits for a person.
            return (candidates.flatMap { index in
                rules[index].actions.indices.map { actionIndex in
                    entry(rule: rules[index], actionIndex: actionIndex, source: source, archiveKey: archiveKey, filled: .failure(error))
                }
            }, nil)
        }
        var entries: [PlannedEntry] = []
        var subject: String?
        for index in candidates where rules[index].matches(kind: scanned.deletionKind, image: image) {
            let rule = rules[index]
            if subject == nil, let subjectKey, let template = rule.subject, case .success(let filled) = template.fill(image),
               SubjectCheck.problem(filled) == nil {
                subject = subjectKey.hmac(filled)
            }
            var ruleEntries = rule.actions.enumerated().map { actionIndex, action in
                entry(rule: rule, actionIndex: actionIndex, source: source, archiveKey: archiveKey, filled: action.fill(image))
            }
            if let policy = rule.coordinate {
                let deletionTime = scanned.eventTime.flatMap { try? DeletionTime($0) }
                PlannedCoordination.plan(
                    rule: rule, policy: policy, entries: &ruleEntries, source: source, table: table, archiveKey: archiveKey,
                    itemKey: .object(image.keys), kind: scanned.deletionKind, deletionTime: deletionTime, eventSource: eventSource)
            }
            entries += ruleEntries
        }
        return (entries, subject)
    }

    /// The HMAC of the subject of the first of `candidates` (rules that only name a subject from `Keys`) that takes
    /// the record and whose template fills: what ``planWithSubject`` finds with the `Keys` decoded, read in place.
    private func subjectFromKeys(record: UnsafeRawBufferPointer, scanned: ScannedRecord, candidates: [Int]) -> String? {
        guard let subjectKey else { return nil }
        for index in candidates where rules[index].kind.matches(scanned.deletionKind) {
            guard let template = rules[index].subject,
                  case .success(let filled) = template.fill({ RecordImage.value($0, in: record, image: scanned.keysRange) }),
                  SubjectCheck.problem(filled) == nil
            else { continue }
            return subjectKey.hmac(filled)
        }
        return nil
    }

    private func entry(rule: DeletionRule, actionIndex: Int, source: String, archiveKey: String,
                       filled: Result<DeletionTarget, RuleTextError>) -> PlannedEntry {
        let action = rule.actions[actionIndex]
        let location = roots[action.root]!
        var planned = PlannedEntry(
            id: PlannedEntry.id(source: source, archiveKey: archiveKey, rule: rule.name, actionIndex: actionIndex),
            rule: rule.name, actionIndex: actionIndex, kind: action.kind, root: action.root, target: .null,
            source: source, archiveKey: archiveKey, unsafe: nil)
        func reason(_ problem: String) -> String {
            "\(problem); it is never run (rule '\(rule.name)', action \(actionIndex + 1) (\(action.kind.rawValue) in root '\(action.root)'), record \(archiveKey))"
        }
        switch filled {
        case .success(let target):
            planned.target = Self.stored(target.json(rootLocation: location))
            if let problem = target.problem(under: location) { planned.unsafe = reason(problem) }
        case .failure(let error):
            planned.target = .object([
                ("templates", .object(action.templates.map { ($0.0, .string($0.1.description)) })),
                ("root_location", .string(location.description)),
            ])
            planned.unsafe = reason("the target cannot be filled: \(error)")
        }
        return planned
    }

    /// The target column with over-long values cut (and marked, so that the entry can never run).
    static func stored(_ target: JSONValue) -> JSONValue {
        guard case .object(let members) = target else { return target }
        var cut = false
        let kept: [(String, JSONValue)] = members.map { name, value in
            guard case .string(let text) = value, text.utf8.count > longestStoredValue else { return (name, value) }
            cut = true
            return (name, .string(String(decoding: Array(text.utf8.prefix(longestStoredValue)), as: UTF8.self)))
        }
        return .object(kept + (cut ? [("cut", .bool(true))] : []))
    }
}

/// The table a record belongs to, from its `eventSourceARN` (`arn:aws:dynamodb:…:table/<name>/stream/…`; the SQLite
/// change table writes `arn:archiver:sqlite:local::table/<name>`); nil when the ARN names no table.
public func tableName(fromARN arn: String) -> String? {
    guard let range = arn.range(of: ":table/") else { return nil }
    let name = arn[range.upperBound...].prefix { $0 != "/" }
    return name.isEmpty ? nil : String(name)
}
