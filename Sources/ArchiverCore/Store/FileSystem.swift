import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A temporary file whose writer is gone: what a process killed before its rename leaves.
public struct AbandonedTemporaryFile: Sendable, Equatable {
    /// The file (absolute).
    public var path: String
    /// The process named in the file's name (0 when the name holds none).
    public var pid: Int32
    /// Its size in bytes.
    public var size: Int64

    public init(path: String, pid: Int32, size: Int64) {
        self.path = path
        self.pid = pid
        self.size = size
    }
}

/// Small, checked wrappers over the POSIX calls the stores and state files need.
/// Errors name the path and say what the system said.
public enum FileSystem {
    /// Files we create hold deleted personal data: readable by the owner only.
    public static let fileMode: mode_t = 0o600
    /// Folders we create: the owner only.
    public static let folderMode: mode_t = 0o700

    /// A failed system call, with the path and errno.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let operation: String
        public let path: String
        public let code: Int32

        public var description: String {
            let reason = String(cString: strerror(code))
            var advice = ""
            switch code {
            case ENOSPC, EDQUOT: advice = "; free some space, then run again (nothing was lost: the checkpoint did not move)"
            case EACCES, EPERM: advice = "; check the permissions of that path, then run again"
            case EROFS: advice = "; the file system is read-only"
            case ENOENT: advice = ""
            default: break
            }
            return "cannot \(operation) '\(path)': \(reason)\(advice)"
        }

        /// Disk full, permission denied, read-only: nothing will work until someone fixes it.
        public var needsAttention: Bool { [ENOSPC, EDQUOT, EACCES, EPERM, EROFS].contains(code) }
    }

    /// Writes a whole file; data reaches the disk only after a later sync.
    public static func writeFile(_ path: String, _ bytes: UnsafeRawBufferPointer, exclusive: Bool = false) throws {
        var flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC
        if exclusive { flags |= O_EXCL }
        let fd = open(path, flags, fileMode)
        guard fd >= 0 else { throw Failure(operation: "create", path: path, code: errno) }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "write", path: path, code: errno)
            }
            offset += written
        }
    }

    /// Removes `<path>.tmp-<pid>` files whose process is gone: what a write killed before its rename leaves.
    public static func removeAbandonedTemporaries(of path: String) {
        for file in abandonedTemporaries(of: path) { unlink(file.path) }
    }

    /// The `<path>.tmp-<pid>` files whose process is gone (a `sync --jsonl` killed before its rename), without
    /// removing them.
    public static func abandonedTemporaries(of path: String) -> [AbandonedTemporaryFile] {
        let folder = parent(of: path)
        let prefix = String(path.dropFirst(folder.count + 1)) + ".tmp-"
        var found: [AbandonedTemporaryFile] = []
        for name in (try? entries(folder)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count)), !isLiveProcess(pid) else { continue }
            var info = stat()
            guard lstat(folder + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            found.append(AbandonedTemporaryFile(path: folder + "/" + name, pid: pid, size: Int64(info.st_size)))
        }
        return found
    }

    /// Whether `pid` is this process or another one still running (of any user): its temporary files are kept.
    public static func isLiveProcess(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
    }

    /// Creates an empty file readable by the owner only, unless it exists.
    public static func createPrivateFile(_ path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, fileMode)
        if fd >= 0 {
            close(fd)
        } else if errno != EEXIST {
            throw Failure(operation: "create", path: path, code: errno)
        }
    }

    /// Takes the group's and others' permissions away from a regular file, if it exists; false if that failed
    /// (a file of another user).
    @discardableResult
    public static func restrictToOwner(_ path: String) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_mode & 0o077 != 0 else { return true }
        return chmod(path, info.st_mode & 0o700) == 0
    }

    public static func fsyncPath(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure(operation: "sync", path: path, code: errno) }
    }

    /// Flushes everything written to the file system holding `path` (Linux `syncfs`; elsewhere `sync`).
    public static func syncFileSystem(containing path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        #if os(Linux)
            guard c_syncfs(fd) == 0 else { throw Failure(operation: "sync the file system of", path: path, code: errno) }
        #else
            guard fsync(fd) == 0 else { throw Failure(operation: "sync", path: path, code: errno) }
            sync()
        #endif
    }

    public static func rename(_ from: String, _ to: String) throws {
        guard Glibc_rename(from, to) == 0 else { throw Failure(operation: "rename into", path: to, code: errno) }
    }

    /// Creates a folder and its missing parents (owner-only). Returns the folders it created, outermost first.
    @discardableResult
    public static func makeFolders(_ path: String) throws -> [String] {
        var created: [String] = []
        var missing: [String] = []
        var current = path
        while !current.isEmpty, current != "/", !isFolder(current) {
            missing.append(current)
            current = parent(of: current)
        }
        for folder in missing.reversed() {
            if mkdir(folder, folderMode) != 0 && errno != EEXIST {
                throw Failure(operation: "create the folder", path: folder, code: errno)
            }
            created.append(folder)
        }
        return created
    }

    public static func isFolder(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "read", path: path, code: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(operation: "read", path: path, code: errno) }
        var result = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while true {
            if offset == result.count { result.append(contentsOf: [UInt8](repeating: 0, count: max(4096, result.count))) }
            let count = result.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "read", path: path, code: errno)
            }
            if count == 0 { break }
            offset += count
        }
        result.removeSubrange(offset...)
        return result
    }

    /// Reads `range` of a file (bytes past its end are not there: the result is then shorter).
    public static func readFile(_ path: String, range: Range<Int64>) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(operation: "read", path: path, code: errno) }
        defer { close(fd) }
        var result = [UInt8](repeating: 0, count: Int(range.count))
        var offset = 0
        while offset < result.count {
            let count = result.withUnsafeMutableBytes { buffer in
                pread(fd, buffer.baseAddress! + offset, buffer.count - offset, off_t(range.lowerBound) + off_t(offset))
            }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(operation: "read", path: path, code: errno)
            }
            if count == 0 { break }
            offset += count
        }
        result.removeSubrange(offset...)
        return result
    }

    /// Names in a folder (not `.` and `..`), sorted bytewise.
    public static func entries(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw Failure(operation: "list", path: path, code: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        // The name is read where it lies: an entry is only `d_reclen` bytes long, so loading the whole
        // `dirent` (`entry.pointee`) can read past the end of the directory buffer.
        let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!
        while let entry = readdir(dir) {
            let name = String(cString: (UnsafeRawPointer(entry) + nameOffset).assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return normalize(path) }
        return normalize(FileManager.default.currentDirectoryPath + "/" + path)
    }

    /// Removes `.` segments, empty segments and a trailing slash.
    static func normalize(_ path: String) -> String {
        let parts = path.split(separator: "/").filter { $0 != "." }
        return "/" + parts.joined(separator: "/")
    }
}

#if os(Linux)
    @_silgen_name("syncfs") private func c_syncfs(_ fd: Int32) -> Int32
#endif

#if canImport(Glibc)
    private func Glibc_rename(_ a: String, _ b: String) -> Int32 { Glibc.rename(a, b) }
#else
    private func Glibc_rename(_ a: String, _ b: String) -> Int32 { Darwin.rename(a, b) }
#endif
