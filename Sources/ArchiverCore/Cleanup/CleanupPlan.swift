import Foundation

/// One thing cleanup does (or, for `keepUpload`, reports and leaves alone).
public enum CleanupAction: Sendable, Equatable {
    /// Abort a multipart upload older than the threshold.
    case abortUpload(CleanupUpload, parts: CleanupUploadParts)
    /// An old multipart upload that already holds parts: reported for a person to review, not aborted (the
    /// seed's "partial" rule; `--abort-partial` aborts it instead).
    case keepUpload(CleanupUpload, parts: CleanupUploadParts)
    /// Delete an object old enough whose owning item does not exist; `reason` says which item was looked for where.
    case deleteObject(CleanupObject, reason: String)
    /// Remove a temporary file whose writer is gone.
    case removeTemporaryFile(AbandonedTemporaryFile)
    /// Remove a dead letter that last failed before the retention.
    case removeDeadLetter(DeadLetterRemoval)
    /// Remove the deletion queue's entries completed before `before`.
    case removeCompletedQueueEntries(count: Int, before: Date)

    /// What a dry run prints for it: `would abort`, `would delete`, `keep for review`, …
    public var verb: (dryRun: String, done: String) {
        switch self {
        case .abortUpload: ("would abort upload", "aborted upload")
        case .keepUpload: ("keep for review", "kept for review")
        case .deleteObject: ("would delete", "deleted")
        case .removeTemporaryFile: ("would remove", "removed")
        case .removeDeadLetter: ("would remove dead letter", "removed dead letter")
        case .removeCompletedQueueEntries: ("would remove", "removed")
        }
    }

    /// What it acts on, in full: `s3://bucket/prefix/key`, a file's path, a dead letter's file.
    public func target(in place: String) -> String {
        switch self {
        case .abortUpload(let upload, _), .keepUpload(let upload, _): place + upload.key
        case .deleteObject(let object, _): place + object.key
        case .removeTemporaryFile(let file): file.path
        case .removeDeadLetter(let removal): "\(removal.stateFolder)/dead-letters/\(removal.id).json"
        case .removeCompletedQueueEntries(let count, _): "\(count) completed deletion-queue entr\(count == 1 ? "y" : "ies")"
        }
    }

    /// Why, in a few words.
    public var detail: String {
        switch self {
        case .abortUpload(let upload, let parts):
            "upload \(upload.uploadID), started \(upload.initiated.map(CleanupText.time) ?? "?"), "
                + (parts.count == 0 ? "no parts" : "\(parts.count) part\(parts.count == 1 ? "" : "s"), \(ByteSize.text(parts.bytes))")
        case .keepUpload(let upload, let parts):
            "upload \(upload.uploadID), started \(upload.initiated.map(CleanupText.time) ?? "?"), holds \(parts.count) part\(parts.count == 1 ? "" : "s") "
                + "(\(ByteSize.text(parts.bytes))); --abort-partial aborts it"
        case .deleteObject(let object, let reason):
            "\(ByteSize.text(object.size)), last modified \(object.lastModified.map(CleanupText.time) ?? "?"), \(reason)"
        case .removeTemporaryFile(let file):
            "\(ByteSize.text(file.size)), left by process \(file.pid), which is gone"
        case .removeDeadLetter(let removal):
            "last failed \(removal.lastFailedAt)"
        case .removeCompletedQueueEntries(_, let before):
            "completed before \(CleanupText.time(before))"
        }
    }

    /// The bytes it frees.
    public var bytes: Int64 {
        switch self {
        case .abortUpload(_, let parts): parts.bytes
        case .keepUpload: 0
        case .deleteObject(let object, _): object.size
        case .removeTemporaryFile(let file): file.size
        case .removeDeadLetter, .removeCompletedQueueEntries: 0
        }
    }

    /// The machine name of the action, in `--json`.
    public var name: String {
        switch self {
        case .abortUpload: "abort-upload"
        case .keepUpload: "keep-upload-for-review"
        case .deleteObject: "delete-object"
        case .removeTemporaryFile: "remove-temporary-file"
        case .removeDeadLetter: "remove-dead-letter"
        case .removeCompletedQueueEntries: "remove-completed-queue-entries"
        }
    }
}

/// Something that went wrong, with where: a lookup that failed (the object was kept), a key S3 would not delete,
/// a root that could not be listed.
public struct CleanupProblem: Sendable, Equatable {
    /// The root or folder it happened under.
    public var root: String
    /// What it was about: a key, an upload, `listing`, an owner id.
    public var subject: String
    /// What went wrong, and what was done about it.
    public var error: String

    public init(root: String, subject: String, error: String) {
        self.root = root
        self.subject = subject
        self.error = error
    }
}

/// The counts of a cleanup: what was looked at, what was done, what was kept and why.
///
/// In a dry run, the counts of things done (`objectsDeleted`, `multipartUploadsAborted`, …) are what a real run
/// would do.
public struct CleanupCounts: Sendable, Equatable {
    /// Owner lookups made: the items (sessions, uploads) whose objects were checked.
    public var itemsChecked = 0
    /// Objects listed under the roots.
    public var objectsExamined = 0
    /// Objects deleted because their owner is gone.
    public var objectsDeleted = 0
    /// Bytes freed: deleted objects, parts of aborted uploads, temporary files removed.
    public var bytesFreed: Int64 = 0
    /// Objects kept because their owner exists.
    public var objectsOwned = 0
    /// Objects not old enough to be judged.
    public var objectsTooRecent = 0
    /// Objects whose key holds no owner id (the key pattern does not match): never deleted.
    public var objectsUnmatched = 0
    /// Objects kept because the owner lookup failed (never delete on doubt); each is also an error.
    public var objectsKeptOnLookupError = 0
    /// Multipart uploads aborted.
    public var multipartUploadsAborted = 0
    /// Old multipart uploads that hold parts, reported and kept (without `--abort-partial`).
    public var uploadsKeptForReview = 0
    /// Multipart uploads not old enough.
    public var uploadsTooRecent = 0
    /// Temporary files of dead processes removed.
    public var temporaryFilesRemoved = 0
    /// Dead letters removed past their retention.
    public var deadLettersRemoved = 0
    /// Completed deletion-queue entries removed past their retention.
    public var queueEntriesRemoved = 0
    /// Errors: failed lookups, deletions and aborts that failed, roots that could not be listed.
    public var errors = 0

    public init() {}

    /// Every count with its name in `--json` and in the metrics file (`archiver_cleanup_<name>_total`) and what it
    /// counts, in order.
    public var named: [(name: String, help: String, value: Int64)] {
        [
            ("items_checked", "Owner lookups made: items whose objects were checked.", Int64(itemsChecked)),
            ("objects_examined", "Objects listed under the cleanup roots.", Int64(objectsExamined)),
            ("objects_deleted", "Objects deleted because the item owning them is gone.", Int64(objectsDeleted)),
            ("bytes_freed", "Bytes freed: objects deleted, parts of aborted uploads, temporary files removed.", bytesFreed),
            ("objects_owned", "Objects kept because their owner exists.", Int64(objectsOwned)),
            ("objects_too_recent", "Objects kept because they are younger than the threshold.", Int64(objectsTooRecent)),
            ("objects_unmatched", "Objects kept because their key holds no owner id.", Int64(objectsUnmatched)),
            ("objects_kept_on_lookup_error", "Objects kept because the owner lookup failed.", Int64(objectsKeptOnLookupError)),
            ("multipart_uploads_aborted", "Stale multipart uploads aborted.", Int64(multipartUploadsAborted)),
            ("uploads_kept_for_review", "Stale multipart uploads that hold parts, kept for review.", Int64(uploadsKeptForReview)),
            ("uploads_too_recent", "Multipart uploads younger than the threshold.", Int64(uploadsTooRecent)),
            ("temporary_files_removed", "Temporary files of dead processes removed.", Int64(temporaryFilesRemoved)),
            ("dead_letters_removed", "Dead letters removed past their retention.", Int64(deadLettersRemoved)),
            ("queue_entries_removed", "Completed deletion-queue entries removed past their retention.", Int64(queueEntriesRemoved)),
            ("errors", "Errors: failed lookups, deletions, aborts and listings.", Int64(errors)),
        ]
    }

    public static func += (a: inout CleanupCounts, b: CleanupCounts) {
        a.itemsChecked += b.itemsChecked
        a.objectsExamined += b.objectsExamined
        a.objectsDeleted += b.objectsDeleted
        a.bytesFreed += b.bytesFreed
        a.objectsOwned += b.objectsOwned
        a.objectsTooRecent += b.objectsTooRecent
        a.objectsUnmatched += b.objectsUnmatched
        a.objectsKeptOnLookupError += b.objectsKeptOnLookupError
        a.multipartUploadsAborted += b.multipartUploadsAborted
        a.uploadsKeptForReview += b.uploadsKeptForReview
        a.uploadsTooRecent += b.uploadsTooRecent
        a.temporaryFilesRemoved += b.temporaryFilesRemoved
        a.deadLettersRemoved += b.deadLettersRemoved
        a.queueEntriesRemoved += b.queueEntriesRemoved
        a.errors += b.errors
    }

    /// Counts `action` as done (by an executor, or as what a dry run would do).
    public mutating func count(done action: CleanupAction) {
        switch action {
        case .abortUpload(_, let parts):
            multipartUploadsAborted += 1
            bytesFreed += parts.bytes
        case .keepUpload:
            uploadsKeptForReview += 1
        case .deleteObject(let object, _):
            objectsDeleted += 1
            bytesFreed += object.size
        case .removeTemporaryFile(let file):
            temporaryFilesRemoved += 1
            bytesFreed += file.size
        case .removeDeadLetter:
            deadLettersRemoved += 1
        case .removeCompletedQueueEntries(let count, _):
            queueEntriesRemoved += count
        }
    }
}

/// What cleanup will do in one place (a root, or archiver's own folders): the actions, and what planning looked at
/// and left alone. A dry run prints it; `CleanupExecutor` carries it out. Planning reads and never changes anything.
public struct CleanupPlan: Sendable {
    /// Where the actions act: a root (`s3://bucket/prefix/`), or `housekeeping`.
    public var place: String
    /// What to do, in order.
    public var actions: [CleanupAction]
    /// What planning counted (objects examined, kept, too recent, lookups made); the actions' counts are added
    /// when they are carried out.
    public var counts: CleanupCounts
    /// What went wrong while planning (lookups that failed: those objects are kept and not in `actions`).
    public var problems: [CleanupProblem]

    public init(place: String, actions: [CleanupAction] = [], counts: CleanupCounts = CleanupCounts(), problems: [CleanupProblem] = []) {
        self.place = place
        self.actions = actions
        self.counts = counts
        self.problems = problems
    }
}
