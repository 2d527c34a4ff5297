import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One archiver at a time writes a state folder: held by the commands that change it (`tail`, `dlq retry`,
/// `dlq drop`) for as long as they run, and let go when they end, however they end (the kernel drops the lock
/// of a process that dies).
///
/// The lock is `flock` on `<state>/lock`, a file that holds the holder's process id, so that a second writer
/// can say who is in the way. Commands that only read (`dlq list`, `dlq show`, `ls`, …) take no lock and work
/// alongside a running tail.
public final class StateFolderLock: Sendable {
    /// The lock file.
    public let path: String
    private let descriptor: Int32

    /// Takes the lock, creating the state folder (owner-only) when it is missing.
    /// - Throws: `StateError` when another process holds the lock (naming its pid and what to do), or when the
    ///   lock file cannot be created.
    public init(stateFolder: String) throws {
        let folder = FileSystem.absolute(stateFolder)
        try FileSystem.makeFolders(folder)
        path = folder + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, FileSystem.fileMode)
        guard fd >= 0 else { throw StateError.unusable(FileSystem.Failure(operation: "create the lock file", path: path, code: errno).description) }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        guard result == 0 else {
            let code = errno
            let holder = Self.holder(fd)
            close(fd)
            guard code == EWOULDBLOCK else {
                throw StateError.unusable(FileSystem.Failure(operation: "lock", path: path, code: code).description)
            }
            let who = holder.map { "another archiver (pid \($0))" } ?? "another archiver"
            throw StateError.unusable(
                "\(who) is using the state folder \(folder). One archiver at a time can write a state folder: wait for it "
                    + "to finish, or stop it (\(holder.map { "kill -TERM \($0)" } ?? "SIGTERM"): it saves its checkpoint and exits), "
                    + "or give this command a state folder of its own with --state")
        }
        descriptor = fd
        // Who holds it, for the message above; the lock, not this number, is what keeps others out.
        let text = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit {
        // A later reader of the file must not take this process for the holder.
        _ = ftruncate(descriptor, 0)
        close(descriptor)
    }

    /// The pid written in the lock file by its holder, if it reads as one.
    private static func holder(_ fd: Int32) -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
