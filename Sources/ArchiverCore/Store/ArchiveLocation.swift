import Foundation

/// Where `--archive` points: a local folder, `s3://bucket[/prefix]`, or `null:` (keeps nothing; for measuring).
public enum ArchiveLocation: Sendable, Equatable, CustomStringConvertible {
    case folder(String)
    case s3(bucket: String, prefix: String)
    case null

    /// Reads an `--archive` value.
    public init(_ spec: String) throws {
        if spec == "null:" {
            self = .null
        } else if spec.hasPrefix("s3://") {
            let rest = spec.dropFirst(5)
            let bucket = rest.prefix { $0 != "/" }
            guard !bucket.isEmpty else { throw ArchiveLocationError("'\(spec)' names no bucket; write s3://bucket or s3://bucket/prefix") }
            var prefix = String(rest.dropFirst(bucket.count)).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
            if prefix.utf8.count > 700 {
                throw ArchiveLocationError("the prefix of '\(spec)' is longer than 700 bytes; S3 keys stop at 1024, and archive names need the rest")
            }
            if !prefix.isEmpty, let problem = validateArchiveKey(prefix) {
                throw ArchiveLocationError("the prefix of '\(spec)' cannot be used: \(problem)")
            }
            if !prefix.isEmpty { prefix += "/" }
            self = .s3(bucket: String(bucket), prefix: prefix)
        } else if spec.isEmpty {
            throw ArchiveLocationError("--archive is empty; give a folder, s3://bucket[/prefix] or null:")
        } else {
            self = .folder(spec.hasPrefix("file://") ? String(spec.dropFirst(7)) : spec)
        }
    }

    /// An S3 bucket.
    public var isS3: Bool {
        if case .s3 = self { true } else { false }
    }

    public var description: String {
        switch self {
        case .folder(let path): path
        case .s3(let bucket, let prefix): "s3://\(bucket)/\(prefix)"
        case .null: "null:"
        }
    }
}

/// A `--archive` value that cannot be used.
public struct ArchiveLocationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
