import Foundation
import JSONToolkit

/// What an erasure acts on: the manifest a dry run prints and a real run carries out, from the subject index (no
/// scan of the archive) and the configured `erasure.actions`.
public struct ErasurePlan: Sendable {
    /// A record of the subject in the archive.
    public struct Record: Sendable, Equatable {
        public var archiveKey: String
        /// The index of the batched object holding it (rewritten without it), or nil: the object is deleted.
        public var objectKey: String?
        public var archivedAt: Date

        public init(archiveKey: String, objectKey: String?, archivedAt: Date) {
            self.archiveKey = archiveKey
            self.objectKey = objectKey
            self.archivedAt = archivedAt
        }
    }

    /// One filled action on the subject's application data.
    public struct Action: Sendable, Equatable {
        public var root: String
        public var target: DeletionTarget
        /// Why it may never run (a subject that breaks the root's rules); nil when safe.
        public var unsafe: String?
    }

    public var subjectHMAC: String
    public var records: [Record]
    public var actions: [Action]
    /// The objects' versions, storage classes, ages and early-deletion charges (a dry run's listings); nil when the
    /// archive was not surveyed.
    public var survey: ErasureSurvey?
    /// The archive's subject index objects that name the subject, rewritten without its lines (or deleted when
    /// left empty); nil when the archive was not read.
    public var indexObjects: [String]?

    public init(subjectHMAC: String, records: [Record], actions: [Action], survey: ErasureSurvey? = nil) {
        self.subjectHMAC = subjectHMAC
        self.records = records
        self.actions = actions
        self.survey = survey
    }

    /// Objects deleted whole (per-record archive).
    public var objectsToDelete: Int { records.count { $0.objectKey == nil } }
    /// Batched objects rewritten without the subject's records.
    public var objectsToRewrite: Int { Set(records.compactMap(\.objectKey)).count }

    /// Fills the actions for `subject` and checks each against its root. A subject that would make a target leave
    /// its root makes that action unsafe (never run), never a wider deletion.
    public static func actions(for subject: String, erasure: ErasureConfiguration, roots: RootsConfiguration) -> [Action] {
        erasure.actions.map { template in
            let location = roots[template.root]!
            switch template.fill(RecordImage.subject(subject)) {
            case .success(let target):
                return Action(root: template.root, target: target, unsafe: target.problem(under: location))
            case .failure(let error):
                return Action(root: template.root, target: .object(key: "", keep: false), unsafe: error.description)
            }
        }
    }

    /// The actions as a job stores them.
    public static func actionsJSON(_ actions: [Action], roots: RootsConfiguration) -> JSONValue {
        .array(actions.map { action in
            .object([
                ("root", .string(action.root)), ("action", .string(action.target.kind.rawValue)),
                ("target", action.target.json(rootLocation: roots[action.root]!)),
                ("unsafe", action.unsafe.map(JSONValue.string) ?? .null),
            ])
        })
    }

    /// Reads the actions a job stored.
    public static func actions(from json: JSONValue) -> [Action] {
        guard case .array(let items) = json else { return [] }
        return items.compactMap { item in
            guard let root = item["root"]?.stringValue, let kind = item["action"]?.stringValue.flatMap(ActionKind.init(rawValue:)),
                  let targetJSON = item["target"] else { return nil }
            let target = DeletionTarget(kind: kind, json: targetJSON) ?? .object(key: "", keep: false)
            return Action(root: root, target: target, unsafe: item["unsafe"]?.stringValue ?? (DeletionTarget(kind: kind, json: targetJSON) == nil ? "the target was cut" : nil))
        }
    }

    /// The estimate a dry run prints: requests (a DeleteObjects call per 1,000 versions deleted: every version of
    /// the per-record objects where the survey counted them; a rewrite reads the index and the object and writes
    /// both, then deletes the old object: 5; an action at least 1), time at `rate` objects a second, and the
    /// early-deletion charge the survey implies (nil without one). A subject index object is read and written again: 2.
    public func estimate(rate: Double) -> (requests: Int, seconds: Double, earlyDeletionUSD: Double?) {
        let wholeVersions = survey.map { $0.objects.filter { $0.operation == "delete" }.map { max(1, $0.versions.count) }.reduce(0, +) } ?? objectsToDelete
        let deletes = (wholeVersions + 999) / 1000
        let requests = deletes + objectsToRewrite * 5 + actions.count { $0.unsafe == nil } + (indexObjects?.count ?? 0) * 2
        return (requests, Double(wholeVersions + objectsToRewrite * 5) / max(1, rate), survey.flatMap { $0.known ? $0.earlyDeletionUSD : nil })
    }

    /// The manifest as JSON (what `erase --dry-run --json` prints).
    public func json(rate: Double, roots: RootsConfiguration) -> JSONValue {
        let estimate = estimate(rate: rate)
        return .object([
            ("subject_hmac", .string(subjectHMAC)),
            ("records", .integer(records.count)),
            ("objects_to_delete", .integer(objectsToDelete)),
            ("objects_to_rewrite", .integer(objectsToRewrite)),
            ("archive", .array(records.map { record in
                .object([
                    ("key", .string(record.archiveKey)),
                    ("operation", .string(record.objectKey == nil ? "delete" : "rewrite")),
                    ("object", record.objectKey.map(JSONValue.string) ?? .null),
                    ("archived_at", .string(ISO8601DateFormatter().string(from: record.archivedAt))),
                ])
            })),
            ("index_objects", indexObjects.map { .array($0.map(JSONValue.string)) } ?? .null),
            ("actions", Self.actionsJSON(actions, roots: roots)),
            ("objects", survey?.json ?? .null),
            ("estimate", .object([
                ("requests", .integer(estimate.requests)),
                ("seconds", .number(String(format: "%.2f", estimate.seconds))),
                ("rate", .integer(Int(rate))),
                ("early_deletion_usd", estimate.earlyDeletionUSD.map { .number(String(format: "%.6f", $0)) } ?? .null),
            ])),
        ])
    }
}
