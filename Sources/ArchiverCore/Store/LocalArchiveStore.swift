import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An archive in a local folder, laid out exactly as the S3 bucket is (`aws s3 sync` works both ways).
///
/// Writes go to `<root>/.tmp/`, are synced, then renamed into place, and the folders synced: a reader
/// sees a whole object or none. A batch is made durable with two file-system syncs, not one per object.
/// `.tmp/` exists only while a batch is being written, so a folder left by a clean exit holds the objects
/// and their date folders and nothing else (a `diff -r` against an `aws s3 sync` copy finds no difference).
/// Temporary files left by a process that died are removed when a store opens the folder for writing.
public final class LocalArchiveStore: ArchiveStore, @unchecked Sendable {
    /// How a store opens its folder.
    public enum Access: Sendable {
        /// Create the folder if it is missing (a writer that starts an archive: `tail`, a `sync` destination).
        case create
        /// The folder must exist; objects may be written and deleted (`dlq retry`, `lifecycle enforce`).
        case existing
        /// The folder must exist; nothing is created, written or removed (`ls`, `restore`, `sync`'s source,
        /// `lifecycle plan`).
        case readOnly
    }

    /// The archive root (absolute).
    public let root: String
    /// How the folder was opened.
    public let access: Access
    private let temporaryFolder: String
    private let lock = NSLock()
    private var knownFolders: Set<String> = []
    private var sequence = 0

    public var location: String { root }

    /// Opens (creating if needed) the archive folder at `path`.
    public convenience init(path: String) throws {
        try self.init(path: path, access: .create)
    }

    /// Opens the archive folder at `path`.
    /// - Throws: `ArchiveStoreError` (`isFailed`) naming the absolute path when `access` needs the folder and
    ///   there is none, or when the path is not a folder; nothing is created then.
    public init(path: String, access: Access) throws {
        root = FileSystem.absolute(path)
        self.access = access
        temporaryFolder = root + "/.tmp"
        if access == .create {
            try FileSystem.makeFolders(root)
        } else if !FileSystem.isFolder(root) {
            throw ArchiveStoreError.failed(
                FileSystem.exists(root)
                    ? "'\(root)' is not a folder, so it cannot be an archive; check --archive"
                    : "there is no archive folder at '\(root)'; check --archive (an archive folder is made by `archiver tail`)")
        }
        if access != .readOnly { try removeAbandonedTemporaryFiles() }
    }

    /// Temporary files are spread over this many folders in `.tmp/`: creating a file locks its folder,
    /// and one shared folder made the threads writing a batch queue behind one another.
    static let temporarySlots = 8
    /// Calls writing at least this many objects use the slot folders.
    static let slottedCalls = 256

    private var slotFolders: [String] { (0..<Self.temporarySlots).map { "\(temporaryFolder)/\($0)" } }

    /// Temporary files are named `<slot>/<pid>-<n>`; those whose process is gone are removed, and then the
    /// temporary folders if nothing else is in them.
    private func removeAbandonedTemporaryFiles() throws {
        for file in Self.abandonedTemporaryFiles(root: root) { unlink(file.path) }
        removeTemporaryFolders()
    }

    /// The temporary files under `<root>/.tmp/` whose writer is gone (what a process killed in the middle of a
    /// batch leaves): files named `<pid>-<n>` whose process no longer runs, and anything else that is not a folder.
    /// Nothing is removed here; `cleanup` lists them first, and a store opened for writing removes them.
    public static func abandonedTemporaryFiles(root: String) -> [AbandonedTemporaryFile] {
        let temporaryFolder = FileSystem.absolute(root) + "/.tmp"
        guard FileSystem.isFolder(temporaryFolder) else { return [] }
        var found: [AbandonedTemporaryFile] = []
        for folder in [temporaryFolder] + (0..<temporarySlots).map({ "\(temporaryFolder)/\($0)" }) {
            let names: [String]
            do {
                names = try FileSystem.entries(folder)
            } catch {
                continue
            }
            for name in names {
                var info = stat()
                guard lstat(folder + "/" + name, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR else { continue }
                let pid = Int32(name.split(separator: "-").first ?? "") ?? 0
                if FileSystem.isLiveProcess(pid) { continue }
                found.append(AbandonedTemporaryFile(path: folder + "/" + name, pid: pid, size: Int64(info.st_size)))
            }
        }
        return found
    }

    /// Removes `<root>/.tmp/` and its slot folders where they are empty (a live writer keeps its own).
    public static func removeEmptyTemporaryFolders(root: String) {
        let temporaryFolder = FileSystem.absolute(root) + "/.tmp"
        for slot in 0..<temporarySlots { rmdir("\(temporaryFolder)/\(slot)") }
        rmdir(temporaryFolder)
    }

    /// Removes the temporary folders that are empty (another process writing into the same archive keeps its own).
    private func removeTemporaryFolders() {
        Self.removeEmptyTemporaryFolders(root: root)
    }

    /// Creates a temporary file; its folder is made first when it is missing (the first write of a batch, or
    /// another process that shares the archive removed it between its batches).
    private func writeTemporary(_ path: String, _ body: [UInt8]) throws {
        var attempts = 0
        while true {
            do {
                try body.withUnsafeBytes { buffer in try FileSystem.writeFile(path, buffer) }
                return
            } catch let error as FileSystem.Failure where error.code == ENOENT && attempts < 5 {
                attempts += 1
                do {
                    try FileSystem.makeFolders(FileSystem.parent(of: path))
                } catch let failure as FileSystem.Failure where failure.code == ENOENT {
                    continue
                }
            }
        }
    }

    public func put(_ objects: [ArchiveObject]) async -> [Int: ArchiveStoreError] {
        guard !objects.isEmpty else { return [:] }
        guard access != .readOnly else {
            let refusal = ArchiveStoreError.failed("the archive folder \(root) was opened read-only; nothing is written to it")
            return Dictionary(uniqueKeysWithValues: objects.indices.map { ($0, refusal) })
        }
        return await runBlocking {
            // `.tmp/` lives only as long as the batch: nothing is left behind between batches or after the process.
            defer { self.removeTemporaryFolders() }
            return self.putBlocking(objects)
        }
    }

    private func putBlocking(_ objects: [ArchiveObject]) -> [Int: ArchiveStoreError] {
        var failures: [Int: ArchiveStoreError] = [:]
        let base = lock.withLock {
            defer { sequence += objects.count }
            return sequence
        }
        let pid = getpid()
        // A large call spreads its temporary files over the slot folders; a small one (a batched archive's objects
        // and indexes) writes them in `.tmp/` itself, sparing the folders' creation and removal at every call.
        let slotted = objects.count >= Self.slottedCalls
        let temporaries = objects.indices.map {
            slotted ? "\(temporaryFolder)/\((base + $0) % Self.temporarySlots)/\(pid)-\(base + $0)" : "\(temporaryFolder)/\(pid)-\(base + $0)"
        }
        do {
            try FileSystem.makeFolders(temporaryFolder)
            for slot in slotted ? Set(objects.indices.map { (base + $0) % Self.temporarySlots }).sorted() : [] {
                try FileSystem.makeFolders("\(temporaryFolder)/\(slot)")
            }
        } catch let error as FileSystem.Failure where error.code != ENOENT {
            // ENOENT: another process sharing the archive removed `.tmp/` meanwhile; each write makes its folder again.
            return Dictionary(uniqueKeysWithValues: objects.indices.map { ($0, Self.classify(error)) })
        } catch {}

        // 1. Write every temporary file (in parallel); nothing is visible yet.
        let writeFailures = ConcurrentResults<ArchiveStoreError>(count: objects.count)
        DispatchQueue.concurrentPerform(iterations: objects.count) { i in
            if let problem = validateArchiveKey(objects[i].key) {
                writeFailures[i] = .rejected("cannot archive under that name: \(problem)")
                return
            }
            do {
                try writeTemporary(temporaries[i], objects[i].body)
            } catch {
                writeFailures[i] = Self.classify(error)
            }
        }
        failures = writeFailures.collected()

        // 2. One sync makes every temporary file's data durable.
        do {
            try FileSystem.syncFileSystem(containing: root)
        } catch {
            for i in objects.indices { unlink(temporaries[i]) }
            return Dictionary(uniqueKeysWithValues: objects.indices.map { ($0, Self.classify(error)) })
        }

        // 3. Rename each into place: the moment it becomes visible, it is whole.
        var touched: Set<String> = []
        for i in objects.indices where failures[i] == nil {
            let destination = root + "/" + objects[i].key
            let folder = FileSystem.parent(of: destination)
            do {
                if !lock.withLock({ knownFolders.contains(folder) }) {
                    for created in try FileSystem.makeFolders(folder) { touched.insert(FileSystem.parent(of: created)) }
                    lock.withLock { _ = knownFolders.insert(folder) }
                }
                try FileSystem.rename(temporaries[i], destination)
                touched.insert(folder)
            } catch {
                unlink(temporaries[i])
                failures[i] = Self.classify(error)
            }
        }

        // 4. One more sync makes the new names durable.
        if !touched.isEmpty {
            do {
                try FileSystem.syncFileSystem(containing: root)
            } catch {
                return Dictionary(uniqueKeysWithValues: objects.indices.map { ($0, Self.classify(error)) })
            }
        }
        return failures
    }

    static func classify(_ error: any Error) -> ArchiveStoreError {
        guard let error = error as? FileSystem.Failure else { return .unavailable("\(error)") }
        if error.needsAttention { return .failed(error.description) }
        if [ENAMETOOLONG, EINVAL, EILSEQ, ENOTDIR, EISDIR].contains(error.code) { return .rejected(error.description) }
        return .unavailable(error.description)
    }

    public func get(_ key: String) async throws -> [UInt8] {
        if let problem = validateArchiveKey(key) { throw ArchiveStoreError.rejected("not an archive key: \(problem)") }
        do {
            return try FileSystem.readFile(root + "/" + key)
        } catch let error as FileSystem.Failure {
            if error.code == ENOENT || error.code == ENOTDIR { throw ArchiveStoreError.notFound(key) }
            throw Self.classify(error)
        }
    }

    public func get(_ key: String, range: Range<Int64>) async throws -> [UInt8] {
        if let problem = validateArchiveKey(key) { throw ArchiveStoreError.rejected("not an archive key: \(problem)") }
        guard range.lowerBound >= 0, !range.isEmpty else { return [] }
        do {
            return try FileSystem.readFile(root + "/" + key, range: range)
        } catch let error as FileSystem.Failure {
            if error.code == ENOENT || error.code == ENOTDIR { throw ArchiveStoreError.notFound(key) }
            throw Self.classify(error)
        }
    }

    public func head(_ key: String) async throws -> StoredObject? {
        guard validateArchiveKey(key) == nil else { return nil }
        var info = stat()
        guard stat(root + "/" + key, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return StoredObject(key: key, size: Int64(info.st_size), lastModified: modificationDate(info))
    }

    public func list(prefix: String) -> AsyncThrowingStream<[StoredObject], any Error> {
        // Pulled a page at a time: the walk never runs ahead of the reader, so memory stays flat.
        let walker = FolderWalker(root: root, prefix: prefix)
        return AsyncThrowingStream(unfolding: { try await runBlockingThrowing { try walker.nextPage(size: 1000) } })
    }

    public func delete(_ keys: [String]) async throws {
        guard access != .readOnly else {
            throw ArchiveStoreError.failed("the archive folder \(root) was opened read-only; nothing is deleted from it")
        }
        var folders: Set<String> = []
        for key in keys {
            if let problem = validateArchiveKey(key) { throw ArchiveStoreError.rejected("not an archive key: \(problem)") }
            let path = root + "/" + key
            if unlink(path) != 0 && errno != ENOENT {
                throw Self.classify(FileSystem.Failure(operation: "delete", path: path, code: errno))
            }
            folders.insert(FileSystem.parent(of: path))
        }
        for folder in folders { try? FileSystem.fsyncPath(folder) }
    }
}

/// A depth-first walk in key order that enters only folders that can hold keys with the prefix and
/// skips dot names (temporary files), handing out a page at a time.
private final class FolderWalker: @unchecked Sendable {
    let root: String
    let prefix: String
    /// Folders being walked: their relative path, sorted entries, and the next entry to look at.
    var stack: [(relative: String, names: [String], next: Int)] = []
    var started = false
    let lock = NSLock()

    init(root: String, prefix: String) {
        self.root = root
        self.prefix = prefix
    }

    func nextPage(size: Int) throws -> [StoredObject]? {
        try lock.withLock {
            if !started {
                started = true
                try push("")
            }
            var page: [StoredObject] = []
            while page.count < size, !stack.isEmpty {
                let top = stack.count - 1
                guard stack[top].next < stack[top].names.count else {
                    stack.removeLast()
                    continue
                }
                let name = stack[top].names[stack[top].next]
                stack[top].next += 1
                let relative = stack[top].relative
                let key = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(root + "/" + key, &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    let asFolder = key + "/"
                    if asFolder.hasPrefix(prefix) || prefix.hasPrefix(asFolder) { try push(key) }
                } else if (info.st_mode & S_IFMT) == S_IFREG, key.hasPrefix(prefix) {
                    page.append(StoredObject(key: key, size: Int64(info.st_size), lastModified: modificationDate(info)))
                }
            }
            return page.isEmpty ? nil : page
        }
    }

    private func push(_ relative: String) throws {
        let folder = relative.isEmpty ? root : root + "/" + relative
        do {
            let names = try FileSystem.entries(folder).filter { !$0.hasPrefix(".") }
            stack.append((relative, names, 0))
        } catch let error as FileSystem.Failure where error.code == ENOENT {
            return
        }
    }
}

private func modificationDate(_ info: stat) -> Date {
    #if canImport(Darwin)
        let spec = info.st_mtimespec
    #else
        let spec = info.st_mtim
    #endif
    return Date(timeIntervalSince1970: TimeInterval(spec.tv_sec) + TimeInterval(spec.tv_nsec) / 1e9)
}

/// Results written by concurrent iterations, one slot each.
final class ConcurrentResults<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    subscript(index: Int) -> T? {
        get { lock.withLock { slots[index] } }
        set { lock.withLock { slots[index] = newValue } }
    }

    func collected() -> [Int: T] {
        lock.withLock {
            var result: [Int: T] = [:]
            for (i, value) in slots.enumerated() { if let value { result[i] = value } }
            return result
        }
    }

    var all: [T?] { lock.withLock { slots } }
}

/// Runs blocking work (file I/O, CPU-heavy loops) off the Swift concurrency pool.
func runBlocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: work()) }
    }
}

/// Runs blocking work that can throw off the Swift concurrency pool.
func runBlockingThrowing<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try work() }) }
    }
}
