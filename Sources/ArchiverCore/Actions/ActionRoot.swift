/// A place deletion actions may touch: an S3 bucket (under a prefix) or a local folder. Every target an
/// action names is relative to its root and must stay inside it (``TargetCheck``).
public enum RootLocation: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// A bucket and a key prefix: "" (the whole bucket) or ending in `/`.
    case s3(bucket: String, prefix: String)
    /// An absolute folder, without a trailing `/`.
    case folder(String)

    /// Reads a root as the configuration writes it: `s3://bucket[/prefix/]` or an absolute folder.
    /// A prefix is taken as a folder of keys (`uploads` means `uploads/`), so `uploads-old/…` is never inside it.
    /// - Throws: a sentence saying what is wrong and what to write.
    public init(_ text: String) throws(RootError) {
        if text.hasPrefix("s3://") {
            let rest = text.dropFirst(5)
            let bucket = String(rest.prefix { $0 != "/" })
            guard !bucket.isEmpty else { throw RootError("'\(text)' names no bucket; write s3://bucket/prefix/") }
            guard bucket.utf8.allSatisfy({ isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") }),
                bucket.utf8.count <= 255
            else { throw RootError("'\(bucket)' is not a bucket name (letters, digits, '-', '.', '_')") }
            var prefix = String(rest.dropFirst(bucket.count + 1))
            if !prefix.isEmpty && !prefix.hasSuffix("/") { prefix += "/" }
            if !prefix.isEmpty, let problem = TargetCheck.problem(inSegments: String(prefix.dropLast()), what: "the prefix") {
                throw RootError("the prefix of '\(text)' cannot be a root: \(problem)")
            }
            self = .s3(bucket: bucket, prefix: prefix)
        } else if text.hasPrefix("/") {
            var path = text
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            guard path != "/" else { throw RootError("'/' cannot be a root: name the folder the actions may touch, e.g. /srv/app/files") }
            if let problem = TargetCheck.problem(inSegments: String(path.dropFirst()), what: "the folder") {
                throw RootError("'\(text)' cannot be a root: \(problem)")
            }
            self = .folder(path)
        } else {
            throw RootError("'\(text)' is neither s3://bucket/prefix/ nor an absolute folder (a relative folder would depend on where archiver runs)")
        }
    }

    /// An S3 root.
    public var isS3: Bool { if case .s3 = self { true } else { false } }

    /// `s3://bucket/prefix/` or `/folder/`.
    public var description: String {
        switch self {
        case .s3(let bucket, let prefix): "s3://\(bucket)/\(prefix)"
        case .folder(let path): path + "/"
        }
    }

    /// Where a target relative to the root is, for people: `s3://bucket/prefix/target` or `/folder/target`.
    public func locate(_ target: String) -> String { description + target }

    /// Whether this root and `archive` share any object or file: a root must never reach into the archive,
    /// and the archive never into a root (an action there would delete archived records).
    public func overlaps(_ archive: ArchiveLocation) -> Bool {
        switch (self, archive) {
        case (.s3(let bucket, let prefix), .s3(let archiveBucket, let archivePrefix)):
            return bucket == archiveBucket && (archivePrefix.hasPrefix(prefix) || prefix.hasPrefix(archivePrefix))
        case (.folder(let path), .folder(let archivePath)):
            let a = path + "/"
            let b = FileSystem.absolute(archivePath).trimmingTrailingSlashes + "/"
            return a.hasPrefix(b) || b.hasPrefix(a)
        default:
            return false
        }
    }

    /// Whether this root and a local folder (the state folder) share anything.
    public func overlaps(folder: String) -> Bool {
        guard case .folder(let path) = self else { return false }
        let a = path + "/"
        let b = FileSystem.absolute(folder).trimmingTrailingSlashes + "/"
        return a.hasPrefix(b) || b.hasPrefix(a)
    }
}

/// A root that cannot be used.
public struct RootError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A root with the name rules use for it.
public struct NamedRoot: Sendable, Equatable {
    /// The name rules write (`root: uploads`).
    public var name: String
    public var location: RootLocation

    public init(name: String, location: RootLocation) {
        self.name = name
        self.location = location
    }
}

extension String {
    var trimmingTrailingSlashes: String {
        var text = self
        while text.count > 1 && text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
