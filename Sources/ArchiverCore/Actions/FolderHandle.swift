import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A folder held open by descriptor, reached from a root one segment at a time without ever following a
/// symbolic link (`openat` with `O_NOFOLLOW`): whatever links a root holds, nothing outside it is touched.
final class FolderHandle: @unchecked Sendable {
    let fd: Int32
    /// For messages.
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// What a name in the folder is.
    enum Kind: Equatable, Sendable {
        case file(size: Int64)
        case folder
        case link
        case other
    }

    /// A failed call: its errno, for the caller to tell "not there" from "cannot".
    struct Failure: Error, Sendable {
        let code: Int32
        let operation: String
        let path: String

        var name: String { FolderHandle.errnoName(code) }
        var isMissing: Bool { code == ENOENT || code == ENOTDIR }
        var isLink: Bool { code == ELOOP }

        var action: ActionFailure {
            ActionFailure(code: name, message: "cannot \(operation) \(path): \(String(cString: strerror(code)))", permanent: false)
        }
    }

    /// Opens a root folder (a link in the root's own path, chosen by whoever configured it, is followed).
    static func root(_ path: String) throws(Failure) -> FolderHandle {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(code: errno, operation: "open the root folder", path: path) }
        return FolderHandle(fd: fd, path: path)
    }

    /// The child folder `name`; ELOOP when it is a symbolic link, ENOENT/ENOTDIR when it is not a folder there.
    func folder(_ name: String) throws(Failure) -> FolderHandle {
        let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard child >= 0 else {
            var code = errno
            // With O_DIRECTORY, Linux reports a link as "not a folder": say it is a link.
            if code == ENOTDIR, (try? kind(name)) == .link { code = ELOOP }
            throw Failure(code: code, operation: "open the folder", path: path + "/" + name)
        }
        return FolderHandle(fd: child, path: path + "/" + name)
    }

    /// Walks `segments` down from here; every one must be a real folder.
    func folder(path segments: [String]) throws(Failure) -> FolderHandle {
        var current = self
        for segment in segments { current = try current.folder(segment) }
        return current
    }

    /// What `name` is, without following a link; nil when there is nothing by that name.
    func kind(_ name: String) throws(Failure) -> Kind? {
        var info = stat()
        guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
            if errno == ENOENT { return nil }
            throw Failure(code: errno, operation: "look at", path: path + "/" + name)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .file(size: Int64(info.st_size))
        case S_IFDIR: return .folder
        case S_IFLNK: return .link
        default: return .other
        }
    }

    /// The names in the folder (not `.` and `..`).
    func entries() throws(Failure) -> [String] {
        let copy = dup(fd)
        guard copy >= 0, let directory = fdopendir(copy) else {
            throw Failure(code: errno, operation: "list", path: path)
        }
        defer { closedir(directory) }
        rewinddir(directory)
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// The bytes of the regular file `name` (never through a link).
    func read(_ name: String) throws(Failure) -> [UInt8] {
        let file = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard file >= 0 else { throw Failure(code: errno, operation: "open", path: path + "/" + name) }
        defer { close(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc_read(file, $0.baseAddress!, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(code: errno, operation: "read", path: path + "/" + name)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
        }
    }

    /// Removes the file or link `name` (ENOENT counts as done).
    func unlink(_ name: String) throws(Failure) {
        guard unlinkat(fd, name, 0) == 0 || errno == ENOENT else { throw Failure(code: errno, operation: "delete", path: path + "/" + name) }
    }

    /// Removes the empty folder `name` (ENOENT counts as done; ENOTEMPTY is thrown).
    func removeFolder(_ name: String) throws(Failure) {
        guard unlinkat(fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
            throw Failure(code: errno, operation: "remove the folder", path: path + "/" + name)
        }
    }

    /// Makes the folder's entries (names added and removed) durable.
    func sync() throws(Failure) {
        guard fsync(fd) == 0 else { throw Failure(code: errno, operation: "sync the folder", path: path) }
    }

    /// The child folder `name`, made (owner-only) when missing.
    func makeFolder(_ name: String) throws(Failure) -> FolderHandle {
        if mkdirat(fd, name, FileSystem.folderMode) == 0 {
            try sync()
        } else if errno != EEXIST {
            throw Failure(code: errno, operation: "create the folder", path: path + "/" + name)
        }
        return try folder(name)
    }

    /// Writes the file `name` whole and durably: a temporary file, synced, renamed over the name, the folder synced.
    func write(_ name: String, _ bytes: [UInt8], replace: Bool) throws(Failure) {
        let temporary = ".\(name.prefix(200)).tmp-\(getpid())"
        let file = openat(fd, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, FileSystem.fileMode)
        guard file >= 0 else { throw Failure(code: errno, operation: "create", path: path + "/" + temporary) }
        var failure: Failure?
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc_write(file, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = Failure(code: errno, operation: "write", path: path + "/" + temporary)
                    return
                }
                offset += written
            }
        }
        if failure == nil && fsync(file) != 0 { failure = Failure(code: errno, operation: "sync", path: path + "/" + temporary) }
        close(file)
        if let failure {
            unlinkat(fd, temporary, 0)
            throw failure
        }
        if !replace, (try? kind(name)) != nil {
            unlinkat(fd, temporary, 0)
            throw Failure(code: EEXIST, operation: "put back", path: path + "/" + name)
        }
        guard renameat(fd, temporary, fd, name) == 0 else {
            let code = errno
            unlinkat(fd, temporary, 0)
            throw Failure(code: code, operation: "rename into", path: path + "/" + name)
        }
        try sync()
    }

    static func errnoName(_ code: Int32) -> String {
        switch code {
        case ENOENT: "ENOENT"
        case EACCES: "EACCES"
        case EPERM: "EPERM"
        case ELOOP: "ELOOP"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case ENOTEMPTY: "ENOTEMPTY"
        case EROFS: "EROFS"
        case ENOSPC: "ENOSPC"
        case EDQUOT: "EDQUOT"
        case EIO: "EIO"
        case EBUSY: "EBUSY"
        case EEXIST: "EEXIST"
        case ENAMETOOLONG: "ENAMETOOLONG"
        default: "errno-\(code)"
        }
    }
}

private func Glibc_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(fd, buffer, count) }
private func Glibc_write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
