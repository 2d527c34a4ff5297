import JSONToolkit

/// The kinds of action a rule may name, as queue entries record them.
public enum ActionKind: String, Sendable, CaseIterable, Codable {
    /// Delete one object (S3) or file (folder); with `keep`, copy it into the archive first.
    case deleteObject = "delete-object"
    /// Delete every object under a prefix (ListObjectsV2 + DeleteObjects), or every file under a folder.
    case deletePrefix = "delete-prefix"
    /// Abort an unfinished multipart upload (S3 only).
    case abortMultipart = "abort-multipart"
}

/// An action as a rule writes it: its root and templates, not yet filled.
public enum ActionTemplate: Sendable, Equatable {
    case deleteObject(root: String, key: Template, keep: Bool)
    case deletePrefix(root: String, prefix: Template, minDepth: Int, keep: Bool)
    case abortMultipart(root: String, key: Template, uploadID: Template)

    public var kind: ActionKind {
        switch self {
        case .deleteObject: .deleteObject
        case .deletePrefix: .deletePrefix
        case .abortMultipart: .abortMultipart
        }
    }

    /// The root's name.
    public var root: String {
        switch self {
        case .deleteObject(let root, _, _), .deletePrefix(let root, _, _, _), .abortMultipart(let root, _, _): root
        }
    }

    /// The templates by parameter name, as the configuration writes them.
    public var templates: [(String, Template)] {
        switch self {
        case .deleteObject(_, let key, _): [("key", key)]
        case .deletePrefix(_, let prefix, _, _): [("prefix", prefix)]
        case .abortMultipart(_, let key, let uploadID): [("key", key), ("upload-id", uploadID)]
        }
    }

    /// Fills the templates from a record.
    public func fill(_ image: RecordImage) -> Result<DeletionTarget, RuleTextError> {
        do {
            switch self {
            case .deleteObject(_, let key, let keep):
                return .success(.object(key: try key.fill(image).get(), keep: keep))
            case .deletePrefix(_, let prefix, let minDepth, let keep):
                return .success(.prefix(prefix: try prefix.fill(image).get(), minDepth: minDepth, keep: keep))
            case .abortMultipart(_, let key, let uploadID):
                return .success(.multipartUpload(key: try key.fill(image).get(), uploadID: try uploadID.fill(image).get()))
            }
        } catch {
            return .failure(error)
        }
    }
}

/// An action's filled target: what one queue entry carries out, relative to its root.
public enum DeletionTarget: Sendable, Equatable, CustomStringConvertible {
    case object(key: String, keep: Bool)
    case prefix(prefix: String, minDepth: Int, keep: Bool)
    case multipartUpload(key: String, uploadID: String)

    public var kind: ActionKind {
        switch self {
        case .object: .deleteObject
        case .prefix: .deletePrefix
        case .multipartUpload: .abortMultipart
        }
    }

    /// The key or prefix, relative to the root.
    public var path: String {
        switch self {
        case .object(let key, _), .multipartUpload(let key, _): key
        case .prefix(let prefix, _, _): prefix
        }
    }

    /// Whether the files are copied into the archive before they are deleted.
    public var keep: Bool {
        switch self {
        case .object(_, let keep), .prefix(_, _, let keep): keep
        case .multipartUpload: false
        }
    }

    public var description: String {
        switch self {
        case .object(let key, let keep): "\(key)\(keep ? " (kept)" : "")"
        case .prefix(let prefix, _, let keep): "\(prefix)…\(keep ? " (kept)" : "")"
        case .multipartUpload(let key, let uploadID): "\(key) upload \(uploadID)"
        }
    }

    /// Why the target may not be used under `root`, or nil when it stays inside (``TargetCheck``).
    public func problem(under root: RootLocation) -> String? {
        switch self {
        case .object(let key, _):
            return TargetCheck.problem(key, shape: .object, root: root, subject: "the key \(TargetCheck.quoted(key))")
        case .prefix(let prefix, let minDepth, _):
            return TargetCheck.problem(prefix, shape: .prefix(minDepth: minDepth), root: root, subject: "the prefix \(TargetCheck.quoted(prefix))")
        case .multipartUpload(let key, let uploadID):
            guard root.isS3 else { return "abort-multipart needs an S3 root, and \(root) is a folder" }
            if let problem = TargetCheck.problem(key, shape: .object, root: root, subject: "the key \(TargetCheck.quoted(key))") { return problem }
            return TargetCheck.uploadIDProblem(uploadID)
        }
    }

    /// The target as the queue's `target` column holds it (with the root's location when enqueued).
    public func json(rootLocation: RootLocation) -> JSONValue {
        switch self {
        case .object(let key, let keep):
            .object([("key", .string(key)), ("keep", .bool(keep)), ("root_location", .string(rootLocation.description))])
        case .prefix(let prefix, let minDepth, let keep):
            .object([
                ("prefix", .string(prefix)), ("min_depth", .integer(minDepth)), ("keep", .bool(keep)),
                ("root_location", .string(rootLocation.description)),
            ])
        case .multipartUpload(let key, let uploadID):
            .object([("key", .string(key)), ("upload_id", .string(uploadID)), ("root_location", .string(rootLocation.description))])
        }
    }

    /// Reads the `target` column of an entry of `kind`; nil when it holds no filled target (an entry parked
    /// because its templates could not be filled).
    public init?(kind: ActionKind, json: JSONValue) {
        switch kind {
        case .deleteObject:
            guard let key = json["key"]?.stringValue else { return nil }
            self = .object(key: key, keep: json["keep"] == .bool(true))
        case .deletePrefix:
            guard let prefix = json["prefix"]?.stringValue, case .number(let depth)? = json["min_depth"], let minDepth = Int(depth) else { return nil }
            self = .prefix(prefix: prefix, minDepth: minDepth, keep: json["keep"] == .bool(true))
        case .abortMultipart:
            guard let key = json["key"]?.stringValue, let uploadID = json["upload_id"]?.stringValue else { return nil }
            self = .multipartUpload(key: key, uploadID: uploadID)
        }
        if json["cut"] == .bool(true) { return nil }
    }
}
