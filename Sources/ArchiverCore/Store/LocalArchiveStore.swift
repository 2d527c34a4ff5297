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
/// Temporary files left by a process that died are removed when a store opens the folder.
public final class LocalArchiveStore: ArchiveStore, @unchecked Sendable {
    /// The archive root (absolute).
    public let root: String
    private let temporaryFolder: String
    private let lock = NSLock()
    private var knownFolders: Set<String> = []
    private var sequence = 0

    public var location: String { root }

    /// Opens (creating if needed) the archive folder at `path`.
    public init(path: String) throws {
        root = FileSystem.absolute(path)
        temporaryFolder = root + "/.tmp"
        for slot in 0..<Self.temporarySlots { try FileSystem.makeFolders("\(temporaryFolder)/\(slot)") }
        try removeAbandonedTemporaryFiles()
    }

    /// Temporary files are spread over this many folders in `.tmp/`: creating a file locks its folder,
    /// and one shared folder made the threads writing a batch queue behind one another.
    static let temporarySlots = 8

    /// Temporary files are named `<slot>/<pid>-<n>`; those whose process is gone are removed.
    private func removeAbandonedTemporaryFiles() throws {
        for folder in [temporaryFolder] + (0..<Self.temporarySlots).map({ "\(temporaryFolder)/\($0)" }) {
            for name in try FileSystem.entries(folder) where !FileSystem.isFolder(folder + "/" + name) {
                if FileSystem.isLiveProcess(Int32(name.split(separator: "-").first ?? "") ?? 0) { continue }
                unlink(folder + "/" + name)
            }
        }
    }

    public func put(_ objects: [ArchiveObject]) async -> [Int: ArchiveStoreError] {
        guard !objects.isEmpty else { return [:] }
        return await runBlocking { self.putBlocking(objects) }
    }

    private func putBlocking(_ objects: [ArchiveObject]) -> [Int: ArchiveStoreError] {
        var failures: [Int: ArchiveStoreError] = [:]
        let base = lock.withLock {
            defer { sequence += objects.count }
            return sequence
        }
        let pid = getpid()
        let temporaries = objects.indices.map { "\(temporaryFolder)/\((base + $0) % Self.temporarySlots)/\(pid)-\(base + $0)" }

        // 1. Write every temporary file (in parallel); nothing is visible yet.
        let writeFailures = ConcurrentResults<ArchiveStoreError>(count: objects.count)
        DispatchQueue.concurrentPerform(iterations: objects.count) { i in
            if let problem = validateArchiveKey(objects[i].key) {
                writeFailures[i] = .rejected("cannot archive under that name: \(problem)")
                return
            }
            do {
                try objects[i].body.withUnsafeBytes { buffer in
                    try FileSystem.writeFile(temporaries[i], buffer)
                }
            } catch {
                writeFailures[i] = Self.classify(error)
            }
        }
        failures = writeFailures.collected()

        // 2. One sync makes every temporary file's data durable.
        do {
            try FileSystem.syncFileSystem(containing: temporaryFolder)
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
