import Foundation

/// An object under a cleanup root.
public struct CleanupObject: Sendable, Equatable {
    /// The key below the root (`2024-01-15/abc.mp4`).
    public var key: String
    /// The size in bytes.
    public var size: Int64
    /// When it was last written; nil when the root cannot tell (such an object is never deleted).
    public var lastModified: Date?

    public init(key: String, size: Int64, lastModified: Date?) {
        self.key = key
        self.size = size
        self.lastModified = lastModified
    }
}

/// A multipart upload in progress under a cleanup root.
public struct CleanupUpload: Sendable, Equatable {
    /// The key below the root that the upload would create.
    public var key: String
    /// The upload id.
    public var uploadID: String
    /// When the upload was started; nil when unknown (such an upload is never aborted).
    public var initiated: Date?

    public init(key: String, uploadID: String, initiated: Date?) {
        self.key = key
        self.uploadID = uploadID
        self.initiated = initiated
    }
}

/// The parts an upload holds so far.
public struct CleanupUploadParts: Sendable, Equatable {
    public var count: Int
    public var bytes: Int64

    public init(count: Int, bytes: Int64) {
        self.count = count
        self.bytes = bytes
    }
}

/// A place whose objects `cleanup` may delete: a bucket and prefix (ArchiverAWS), or a local folder.
///
/// Keys are relative to the root in both directions: a root never lists, deletes or aborts anything outside it.
public protocol CleanupRoot: Sendable {
    /// The root, for people: `s3://bucket/prefix/` or an absolute folder path ending in `/`.
    var description: String { get }

    /// Every object under the root, a page at a time (at most 1,000 a page), in key order.
    /// - Throws (from the stream): when the root cannot be listed (no such bucket or folder, access denied).
    func objects() -> AsyncThrowingStream<[CleanupObject], any Error>

    /// Deletes up to 1,000 objects (one DeleteObjects call on S3; unlink, then one sync of each folder touched, in a
    /// folder). An object that is already gone counts as deleted.
    /// - Returns: the keys that could not be deleted, each with why.
    /// - Throws: when the call fails as a whole (nothing can be said of any key).
    func delete(_ keys: [String]) async throws -> [String: String]

    /// The multipart uploads in progress under the root, a page at a time; none for a folder.
    func uploads() -> AsyncThrowingStream<[CleanupUpload], any Error>

    /// The parts `upload` holds so far; nil when the upload no longer exists (completed or aborted meanwhile).
    func parts(of upload: CleanupUpload) async throws -> CleanupUploadParts?

    /// Aborts `upload`, freeing its parts.
    /// - Returns: false when the upload no longer existed (`NoSuchUpload`): nothing is left to free, which counts as done.
    func abort(_ upload: CleanupUpload) async throws -> Bool
}

/// A local folder as a cleanup root: objects are its regular files (symbolic links and names starting with `.`
/// are never listed, so never deleted); it has no multipart uploads. Deleting unlinks, then syncs the folders
/// touched (or, for many, the file system once) so the deletions survive a crash. Folders emptied are left in place
/// (the application may write there).
public struct LocalCleanupRoot: CleanupRoot {
    /// The folder (absolute).
    public let path: String
    private let listing: LocalArchiveStore

    /// Opens a folder that must exist; nothing in it is created, moved or removed by opening it.
    /// - Throws: `ArchiveStoreError` naming the absolute path when there is no such folder.
    public init(path: String) throws {
        self.path = FileSystem.absolute(path)
        listing = try LocalArchiveStore(path: self.path, access: .readOnly)
    }

    public var description: String { path.hasSuffix("/") ? path : path + "/" }

    /// Up to this many folders touched by one delete call are synced one by one.
    static let foldersSyncedOneByOne = 8

    public func objects() -> AsyncThrowingStream<[CleanupObject], any Error> {
        let pages = PageReader(listing.list(prefix: ""))
        return AsyncThrowingStream(unfolding: {
            try await pages.next()?.map { CleanupObject(key: $0.key, size: $0.size, lastModified: $0.lastModified) }
        })
    }

    public func delete(_ keys: [String]) async throws -> [String: String] {
        let root = path
        return await runBlocking {
            var failures: [String: String] = [:]
            var folders: Set<String> = []
            for key in keys {
                if let problem = validateArchiveKey(key) {
                    failures[key] = "not deleted: \(problem)"
                    continue
                }
                let file = root + "/" + key
                if unlink(file) != 0 && errno != ENOENT {
                    failures[key] = FileSystem.Failure(operation: "delete", path: file, code: errno).description
                    continue
                }
                folders.insert(FileSystem.parent(of: file))
            }
            // A few folders are synced one by one; many at once with one sync of the file system (as the archive
            // store makes a batch durable), which costs far less than a sync per folder.
            do {
                if folders.count <= Self.foldersSyncedOneByOne {
                    for folder in folders.sorted() { try FileSystem.fsyncPath(folder) }
                } else if !folders.isEmpty {
                    try FileSystem.syncFileSystem(containing: root)
                }
            } catch {
                // The unlinks happened; only their durability across a crash is in doubt.
                for key in keys where failures[key] == nil {
                    failures[key] = "deleted, but the deletion could not be made durable: \(error)"
                }
            }
            return failures
        }
    }

    public func uploads() -> AsyncThrowingStream<[CleanupUpload], any Error> { AsyncThrowingStream { $0.finish() } }

    public func parts(of upload: CleanupUpload) async throws -> CleanupUploadParts? { nil }

    public func abort(_ upload: CleanupUpload) async throws -> Bool { false }
}

/// Pulls pages from a stream one at a time for a consumer that asks for the next page only after the last one
/// (an `AsyncThrowingStream(unfolding:)`), so a listing never runs ahead of its reader.
final class PageReader<Page: Sendable>: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<Page, any Error>.AsyncIterator

    init(_ stream: AsyncThrowingStream<Page, any Error>) { iterator = stream.makeAsyncIterator() }

    func next() async throws -> Page? { try await iterator.next() }
}
