import Foundation

/// One object to archive: its key relative to the archive root, its bytes (gzip) and a little metadata.
public struct ArchiveObject: Sendable {
    /// The key relative to the archive root, e.g. `2024/01/15/USER#123_PROFILE.103000.11000.manual.json.gz`.
    public var key: String
    /// The object's bytes.
    public var body: [UInt8]
    /// Small descriptive metadata (`kind`, `deleted-at`, `item-key`), kept where the store can keep it.
    public var metadata: [String: String]

    public init(key: String, body: [UInt8], metadata: [String: String] = [:]) {
        self.key = key
        self.body = body
        self.metadata = metadata
    }
}

/// What a store knows of an object without reading it.
public struct StoredObject: Sendable, Equatable {
    /// The key relative to the archive root.
    public var key: String
    /// The size in bytes.
    public var size: Int64
    /// When the object was last written.
    public var lastModified: Date?
    /// The MD5 of the bytes in hex, when the store knows it without reading (an S3 ETag of a single-part upload).
    public var etag: String?

    public init(key: String, size: Int64, lastModified: Date? = nil, etag: String? = nil) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
        self.etag = etag
    }
}

/// Where archive objects live: a local folder, an S3 bucket, or nowhere (for measuring).
///
/// Implementations keep the same keys and bytes, so an archive can move between them with `aws s3 sync`.
public protocol ArchiveStore: Sendable {
    /// Where the store points, for people: a folder path or `s3://bucket/prefix`.
    var location: String { get }

    /// Writes objects. When this returns, every object not named in the result is durable: it survives
    /// a crash of this process or of the machine. Each object is written whole or not at all; no reader
    /// ever sees part of one. Writing an object that exists replaces it.
    /// - Returns: the objects that could not be written, by index into `objects`, with why.
    func put(_ objects: [ArchiveObject]) async -> [Int: ArchiveStoreError]

    /// Reads one object.
    /// - Throws: `ArchiveStoreError` (`isNotFound` when there is no such object).
    func get(_ key: String) async throws -> [UInt8]

    /// Reads the bytes `range` of one object (one gzip member of a batched object): an HTTP `Range` on S3, a
    /// positioned read in a folder. A range past the object's end is cut at the end.
    /// - Throws: `ArchiveStoreError` (`isNotFound` when there is no such object).
    func get(_ key: String, range: Range<Int64>) async throws -> [UInt8]

    /// What the store knows of one object, or nil when there is no such object.
    func head(_ key: String) async throws -> StoredObject?

    /// Lists the objects whose keys start with `prefix` (relative to the archive root), in key order,
    /// a page at a time. Temporary objects of a write in progress are never listed.
    func list(prefix: String) -> AsyncThrowingStream<[StoredObject], any Error>

    /// Deletes objects; keys that do not exist are not an error.
    func delete(_ keys: [String]) async throws
}

extension ArchiveStore {
    /// Reads the whole object and cuts the range out: for stores that cannot read part of an object.
    public func get(_ key: String, range: Range<Int64>) async throws -> [UInt8] {
        let bytes = try await get(key)
        let lower = Int(min(max(range.lowerBound, 0), Int64(bytes.count)))
        let upper = Int(min(max(range.upperBound, Int64(lower)), Int64(bytes.count)))
        return Array(bytes[lower..<upper])
    }
}

/// Why a store could not do what was asked. Says what to do about it.
public struct ArchiveStoreError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case notFound(String)
        case unavailable(String)
        case rejected(String)
        case failed(String)
    }

    private let kind: Kind

    /// There is no object at that key.
    public static func notFound(_ key: String) -> Self { Self(kind: .notFound(key)) }
    /// The store cannot be reached or is overloaded for now; the same write may succeed later.
    public static func unavailable(_ message: String) -> Self { Self(kind: .unavailable(message)) }
    /// The store refuses this object; retrying it will not help (it goes to the dead-letter folder).
    public static func rejected(_ message: String) -> Self { Self(kind: .rejected(message)) }
    /// The store cannot work until someone fixes something (disk full, permission denied, no such bucket).
    public static func failed(_ message: String) -> Self { Self(kind: .failed(message)) }

    public var isNotFound: Bool { if case .notFound = kind { true } else { false } }
    public var isUnavailable: Bool { if case .unavailable = kind { true } else { false } }
    public var isRejected: Bool { if case .rejected = kind { true } else { false } }
    public var isFailed: Bool { if case .failed = kind { true } else { false } }

    public var description: String {
        switch kind {
        case .notFound(let key): "no archived object at '\(key)'; `archiver ls` lists the keys"
        case .unavailable(let message), .rejected(let message), .failed(let message): message
        }
    }
}

/// A store that keeps nothing: for measuring the pipeline's own speed.
public struct NullArchiveStore: ArchiveStore {
    public init() {}
    public var location: String { "null:" }
    public func put(_ objects: [ArchiveObject]) async -> [Int: ArchiveStoreError] { [:] }
    public func get(_ key: String) async throws -> [UInt8] { throw ArchiveStoreError.notFound(key) }
    public func head(_ key: String) async throws -> StoredObject? { nil }
    public func list(prefix: String) -> AsyncThrowingStream<[StoredObject], any Error> { AsyncThrowingStream { $0.finish() } }
    public func delete(_ keys: [String]) async throws {}
}

/// Checks a key before it touches a file system or a bucket: relative, no empty, `.` or `..` segments,
/// no hidden segments (the store's own temporary files start with a dot), no NUL or control bytes.
public func validateArchiveKey(_ key: String) -> String? {
    if key.isEmpty { return "the key is empty" }
    if key.hasPrefix("/") { return "the key '\(key)' starts with '/'; keys are relative to the archive root" }
    if key.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) { return "the key has a control character" }
    if key.utf8.contains(UInt8(ascii: "\\")) { return "the key has a backslash" }
    // Bytes, not Characters: a '/' or '.' followed by a combining mark is still a separator or a dot.
    for segment in key.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
        if segment.isEmpty { return "the key '\(key)' has an empty path segment" }
        if segment.first == UInt8(ascii: ".") { return "the key '\(key)' has a segment starting with '.'" }
        if segment.count > 255 { return "a segment of the key is longer than 255 bytes" }
    }
    if key.utf8.count > 1024 { return "the key is longer than 1024 bytes" }
    return nil
}
