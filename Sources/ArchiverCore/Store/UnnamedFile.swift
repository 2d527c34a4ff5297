#if canImport(Glibc)
    import Glibc
#endif

/// Files written without a name first (Linux's `O_TMPFILE`), named once their bytes are durable.
///
/// Creating an unnamed file takes no lock on any folder, so the threads writing a batch do not queue
/// behind one another on a temporary folder, and a crash before the naming leaves nothing behind to
/// clean up: the file system frees an unnamed file when its last descriptor closes.
extension FileSystem {
    /// Whether unnamed files can be created in `folder` and then named (the file system supports
    /// `O_TMPFILE`, and `/proc` is there to name them through).
    static func supportsUnnamedFiles(in folder: String) -> Bool {
        #if os(Linux)
            guard let fd = try? writeUnnamedFile(in: folder, UnsafeRawBufferPointer(start: nil, count: 0)) else { return false }
            defer { close(fd) }
            let probe = folder + "/.unnamed-probe-\(getpid())"
            unlink(probe)
            guard (try? nameUnnamedFile(fd, probe)) != nil else { return false }
            unlink(probe)
            return true
        #else
            return false
        #endif
    }

    /// Writes `bytes` to a new unnamed file (owner-only) on the file system of `folder`; returns its descriptor.
    static func writeUnnamedFile(in folder: String, _ bytes: UnsafeRawBufferPointer) throws -> Int32 {
        #if os(Linux)
            let fd = open(folder, O_WRONLY | unnamedFileFlag | O_CLOEXEC, fileMode)
            guard fd >= 0 else { throw Failure(operation: "create a file in", path: folder, code: errno) }
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    let code = errno
                    close(fd)
                    throw Failure(operation: "write in", path: folder, code: code)
                }
                offset += written
            }
            return fd
        #else
            throw Failure(operation: "create a file in", path: folder, code: ENOTSUP)
        #endif
    }

    /// Gives the unnamed file open as `fd` the name `path` (EEXIST when the name is taken).
    static func nameUnnamedFile(_ fd: Int32, _ path: String) throws {
        guard linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0 else {
            throw Failure(operation: "name", path: path, code: errno)
        }
    }

    /// Raises this process's limit on open files to its hard limit (at most `ceiling`); returns the limit.
    static func raiseOpenFileLimit(ceiling: Int = 65536) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        let wanted = min(limit.rlim_max, rlim_t(ceiling))
        if limit.rlim_cur < wanted {
            var raised = limit
            raised.rlim_cur = wanted
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return Int(wanted) }
        }
        return Int(limit.rlim_cur)
    }
}

#if os(Linux)
    /// `O_TMPFILE` (`__O_TMPFILE | O_DIRECTORY`; the Glibc module does not export the macro). `__O_TMPFILE`
    /// is 020000000 on x86-64 and arm64.
    private let unnamedFileFlag: Int32 = 0o20000000 | O_DIRECTORY
#endif
