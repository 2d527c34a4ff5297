import Foundation
import JSONToolkit

/// The `cleanup:` section: what `archiver cleanup` cleans when run without a root, its thresholds and retentions.
/// Every key is described in docs/configuration.md; the command's flags override them.
///
/// ```yaml
/// cleanup:
///   dry-run: false
///   uploads-older-than: 24h
///   abort-partial: false
///   orphans-older-than: 24h
///   dead-letters-older-than: 90d
///   queue-completed-older-than: 30d
///   sync-jsonl: [/srv/exports/january.jsonl]
///   metrics-file: /var/lib/node_exporter/textfile/archiver_cleanup.prom
///   targets:
///     - root: s3://user-content/uploads/
///       key-pattern: "*/{sessionId}.*"
///       owner: dynamodb:UploadSessions#uploadSessionId
/// ```
public struct CleanupConfiguration: Sendable, Equatable {
    /// One place to clean.
    public struct Target: Sendable, Equatable {
        /// `s3://bucket/prefix/` or a folder, as written.
        public var root: String
        /// The root, read.
        public var location: ArchiveLocation
        /// Where the owner's id is in a key; nil when no object under this root is judged an orphan.
        public var keyPattern: OwnerKeyPattern?
        /// The owner table; set exactly when `keyPattern` is.
        public var owner: OwnerSpec?
        /// Whether stale multipart uploads under this root are aborted (S3 roots; default true).
        public var uploads: Bool
        /// Per-target thresholds; nil takes the section's.
        public var uploadsOlderThan: ConfigurationDuration?
        public var orphansOlderThan: ConfigurationDuration?
        public var abortPartial: Bool?

        public init(
            root: String, keyPattern: OwnerKeyPattern? = nil, owner: OwnerSpec? = nil, uploads: Bool = true,
            uploadsOlderThan: ConfigurationDuration? = nil, orphansOlderThan: ConfigurationDuration? = nil, abortPartial: Bool? = nil
        ) throws {
            self.root = root
            location = try CleanupConfiguration.location(root)
            self.keyPattern = keyPattern
            self.owner = owner
            self.uploads = uploads
            self.uploadsOlderThan = uploadsOlderThan
            self.orphansOlderThan = orphansOlderThan
            self.abortPartial = abortPartial
        }

        static let keys = ["root", "key-pattern", "key-regex", "owner", "uploads", "uploads-older-than", "orphans-older-than", "abort-partial"]
    }

    /// The default of `--dry-run`.
    public var dryRun: Bool?
    public var uploadsOlderThan: ConfigurationDuration?
    public var abortPartial: Bool?
    public var orphansOlderThan: ConfigurationDuration?
    /// Off (nil) unless set: dead letters are kept until someone drops them.
    public var deadLettersOlderThan: ConfigurationDuration?
    /// Off (nil) unless set.
    public var queueCompletedOlderThan: ConfigurationDuration?
    public var syncJSONLines: [String]
    public var metricsFile: String?
    public var targets: [Target]

    /// Stale multipart uploads: started more than a day ago.
    public static let defaultUploadsOlderThan = ConfigurationDuration(seconds: 86_400, text: "24h")
    /// Orphans: objects written more than a day ago (the seed's CLEANUP_AGE_HOURS).
    public static let defaultOrphansOlderThan = ConfigurationDuration(seconds: 86_400, text: "24h")

    static let keys = [
        "dry-run", "uploads-older-than", "abort-partial", "orphans-older-than", "dead-letters-older-than", "queue-completed-older-than",
        "sync-jsonl", "metrics-file", "targets",
    ]

    /// Every setting at its default.
    public init() {
        syncJSONLines = []
        targets = []
    }

    /// Reads the section (nil: absent, every default).
    /// - Throws: `ConfigurationError` with the file, line and key.
    public init(reading value: ConfigurationValue?) throws {
        self.init()
        guard let value else { return }
        let section = try value.mapping()
        dryRun = try section.value("dry-run")?.bool()
        uploadsOlderThan = try section.value("uploads-older-than")?.duration()
        abortPartial = try section.value("abort-partial")?.bool()
        orphansOlderThan = try section.value("orphans-older-than")?.duration()
        deadLettersOlderThan = try section.value("dead-letters-older-than")?.duration()
        queueCompletedOlderThan = try section.value("queue-completed-older-than")?.duration()
        syncJSONLines = try section.value("sync-jsonl")?.list().map { try $0.nonEmptyString() } ?? []
        metricsFile = try section.value("metrics-file")?.nonEmptyString()
        targets = try section.value("targets")?.list().map(Self.target) ?? []
        try section.finish()
        var seen: Set<String> = []
        for (index, target) in targets.enumerated() where !seen.insert(target.location.description).inserted {
            throw ConfigurationError.invalid(
                file: section.file, path: "\(section.path).targets[\(index)]", line: section.line,
                detail: "the root \(target.root) is listed twice; give each root once")
        }
    }

    private static func target(_ value: ConfigurationValue) throws -> Target {
        let entry = try value.mapping()
        let rootValue = try entry.required("root", "the bucket and prefix (s3://bucket/prefix/) or the folder to clean")
        let root = try rootValue.nonEmptyString()
        do {
            _ = try Self.location(root)
        } catch {
            throw rootValue.invalid("\(error)")
        }
        var pattern: OwnerKeyPattern?
        let template = entry.value("key-pattern")
        let regex = entry.value("key-regex")
        if template != nil && regex != nil {
            throw entry.invalid("give key-pattern or key-regex, not both")
        }
        do {
            if let template { pattern = try OwnerKeyPattern(template: try template.nonEmptyString()) }
            if let regex { pattern = try OwnerKeyPattern(regex: try regex.nonEmptyString()) }
        } catch let error as OwnerKeyPatternError {
            throw (template ?? regex!).invalid(error.description)
        }
        var owner: OwnerSpec?
        if let ownerValue = entry.value("owner") {
            do {
                owner = try OwnerSpec(try ownerValue.nonEmptyString())
            } catch let error as OwnerSpecError {
                throw ownerValue.invalid(error.description)
            }
        }
        if (pattern == nil) != (owner == nil) {
            throw entry.invalid(
                pattern == nil
                    ? "owner needs a key-pattern (or key-regex) that finds the owner's id in each key"
                    : "a key pattern needs an owner: the table where owners are looked up (dynamodb:<table>[#<attribute>] or sqlite:<db>#<table>#<column>)")
        }
        let target = try Target(
            root: root, keyPattern: pattern, owner: owner, uploads: try entry.value("uploads")?.bool() ?? true,
            uploadsOlderThan: try entry.value("uploads-older-than")?.duration(), orphansOlderThan: try entry.value("orphans-older-than")?.duration(),
            abortPartial: try entry.value("abort-partial")?.bool())
        try entry.finish()
        return target
    }

    /// A cleanup root: `s3://bucket[/prefix]` or a folder (not `null:`).
    public static func location(_ text: String) throws -> ArchiveLocation {
        let location = try ArchiveLocation(text)
        if case .null = location { throw ArchiveLocationError("null: holds nothing to clean; give s3://bucket/prefix/ or a folder") }
        return location
    }

    /// What `config check` prints, defaults shown.
    public var described: JSONValue {
        func duration(_ value: ConfigurationDuration?, _ fallback: String) -> JSONValue { .string(value?.text ?? fallback) }
        return .object([
            ("dry-run", .bool(dryRun ?? false)),
            ("uploads-older-than", duration(uploadsOlderThan, Self.defaultUploadsOlderThan.text)),
            ("abort-partial", .bool(abortPartial ?? false)),
            ("orphans-older-than", duration(orphansOlderThan, Self.defaultOrphansOlderThan.text)),
            ("dead-letters-older-than", duration(deadLettersOlderThan, "off (dead letters are kept)")),
            ("queue-completed-older-than", duration(queueCompletedOlderThan, "off (completed entries are kept)")),
            ("sync-jsonl", .array(syncJSONLines.map(JSONValue.string))),
            ("metrics-file", metricsFile.map(JSONValue.string) ?? .null),
            ("targets", .array(targets.map { target in
                .object([
                    ("root", .string(target.location.description)),
                    (target.keyPattern?.form == .regex ? "key-regex" : "key-pattern", target.keyPattern.map { .string($0.text) } ?? .null),
                    ("owner", target.owner.map { .string($0.description) } ?? .null),
                    ("uploads", .bool(target.uploads && target.location.isS3)),
                    ("uploads-older-than", duration(target.uploadsOlderThan ?? uploadsOlderThan, Self.defaultUploadsOlderThan.text)),
                    ("orphans-older-than", duration(target.orphansOlderThan ?? orphansOlderThan, Self.defaultOrphansOlderThan.text)),
                    ("abort-partial", .bool(target.abortPartial ?? abortPartial ?? false)),
                ])
            })),
        ])
    }
}
