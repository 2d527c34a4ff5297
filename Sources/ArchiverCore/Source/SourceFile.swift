import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file records were read from: its name when they were read, and its identity (device and inode),
/// which a rename keeps. After a log rotation the name may belong to a newer file; the identity still
/// finds the one that was read (`ls -i`, `find -inum`, or ``currentPath``).
public struct SourceFile: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The file's path when the records were read (a rotated name when the source was reading a rotated file).
    public var path: String
    public var device: UInt64
    public var inode: UInt64

    public init(path: String, device: UInt64, inode: UInt64) {
        self.path = path
        self.device = device
        self.inode = inode
    }

    /// `/var/log/feed.jsonl (device 2049, inode 67280)`.
    public var description: String { "\(path) (device \(device), inode \(inode))" }

    /// Where the file is now: its path if it still names this file, otherwise a file in the same folder whose
    /// name starts with the original name (`feed.jsonl.1` after logrotate) with this identity; nil when gone.
    public var currentPath: String? {
        if isThisFile(path) { return path }
        let folder = FileSystem.parent(of: path)
        let base = String(path.dropFirst(folder == "/" ? 1 : folder.count + 1))
        guard let names = try? FileSystem.entries(folder) else { return nil }
        for name in names where name.hasPrefix(base) && name != base {
            let candidate = folder == "/" ? "/" + name : folder + "/" + name
            if isThisFile(candidate) { return candidate }
        }
        return nil
    }

    private func isThisFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }
}

/// A record longer than the source keeps whole (`--max-record-bytes`): the source passed over it in bounded
/// memory, keeping its first bytes (in the batch), its length and a SHA-256 of all of it.
public struct OversizedRecord: Sendable, Equatable {
    /// The record's length in bytes (a line without its newline).
    public var length: Int64
    /// The SHA-256 of all of the record's bytes, in hex.
    public var sha256: String

    public init(length: Int64, sha256: String) {
        self.length = length
        self.sha256 = sha256
    }
}
