import JSONToolkit

/// One action to carry out: a claimed entry's target, its root, and where a kept copy goes.
public struct PreparedAction: Sendable, Equatable {
    /// The queue entry's id.
    public var id: String
    public var target: DeletionTarget
    /// The root's name (kept copies are filed under it).
    public var rootName: String
    public var root: RootLocation
    /// The archive key of the deleted record the action belongs to (kept copies are filed beside it).
    public var archiveKey: String

    public init(id: String, target: DeletionTarget, rootName: String, root: RootLocation, archiveKey: String) {
        self.id = id
        self.target = target
        self.rootName = rootName
        self.root = root
        self.archiveKey = archiveKey
    }
}

/// Why an action did not complete.
public struct ActionFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// A short code: the AWS error code (`AccessDenied`, `InternalError`), the errno name (`EACCES`), or one of
    /// archiver's (`unsafe-target`, `keep-failed`, `lease-expired`, `root-changed`).
    public var code: String
    /// What went wrong, naming the target.
    public var message: String
    /// The HTTP status of the failing S3 answer.
    public var httpStatus: Int?
    /// Retrying cannot help (an unsafe target, a copy that can never be kept): the entry is parked at once.
    public var permanent: Bool

    public init(code: String, message: String, httpStatus: Int? = nil, permanent: Bool = false) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.permanent = permanent
    }

    public var description: String { message }
}

/// What became of one action.
public enum ActionResult: Sendable, Equatable {
    /// Done: the target is gone (or was already). The JSON says what was done (`deleted`, `absent`, `kept`, counts).
    case completed(JSONValue)
    case failed(ActionFailure)
}

/// A file kept in the archive by an action with `keep: true`, to put back where it was.
public struct KeptFile: Sendable, Equatable {
    /// Its archive key: `<record key without .json.gz>.files/<root>/<path>`.
    public var archiveKey: String
    /// The root it came from.
    public var root: RootLocation
    /// Its key or path relative to the root.
    public var path: String

    public init(archiveKey: String, root: RootLocation, path: String) {
        self.archiveKey = archiveKey
        self.root = root
        self.path = path
    }
}

/// Carries out deletion actions on roots of one kind (a local folder, an S3 bucket).
///
/// The contract every executor keeps (`ActionExecutorConformance` in the tests checks each point against each
/// executor):
/// - Idempotent: running an action again after it completed (or after a crash part-way) completes it; a target
///   that is already gone (a missing object, an empty prefix, an upload that no longer exists) counts as done.
/// - Confined: nothing outside the action's root is touched, whatever the target holds; the target is checked
///   again (``DeletionTarget/problem(under:)``) and an unsafe one fails permanently without touching anything.
/// - Keep before delete: with `keep`, every file is copied into the archive under ``KeptFiles/key(record:root:path:)``
///   before any is deleted, and nothing is deleted when a copy fails.
/// - One result per action, in order; a failure says which target and why, with a code.
public protocol ActionExecutor: Sendable {
    /// Whether this executor acts on `root`.
    func handles(_ root: RootLocation) -> Bool

    /// Carries out `actions` (all on roots it handles), as many at once as it can.
    /// - Returns: one result per action, in the order given.
    func execute(_ actions: [PreparedAction]) async -> [ActionResult]

    /// Puts kept files back into their roots (`restore --with-files`); a file that exists is left alone unless
    /// `overwrite`.
    /// - Returns: one result per file, in the order given.
    func restore(_ files: [KeptFile], overwrite: Bool) async -> [ActionResult]
}
