import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How much of a source is not read yet, as far as the source can tell cheaply.
public struct SourceBacklog: Sendable, Equatable, Codable {
    /// Bytes not read yet (a file source), if known.
    public var bytes: Int64?
    /// Records not read yet (a change table), if known.
    public var records: Int64?

    public init(bytes: Int64? = nil, records: Int64? = nil) {
        self.bytes = bytes
        self.records = records
    }
}

/// A source that can say how far its checkpoints are behind the end of its feed without reading it (a file's
/// size, a table's last sequence number). A stream, which cannot, does not adopt it.
public protocol SourceBacklogReporting: ChangeSource {
    /// What is not read yet after these checkpoints (partition → checkpoint, as the source saves them); nil when it
    /// cannot tell now (the file is missing, the database busy).
    func backlog(after checkpoints: [String: String]) async -> SourceBacklog?
}

extension JSONLinesSource: SourceBacklogReporting {
    /// The file's size past the checkpoint; a file rotated since the checkpoint counts whole (the rest of the rotated
    /// file is not counted).
    public func backlog(after checkpoints: [String: String]) async -> SourceBacklog? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let size = Int64(info.st_size)
        guard let checkpoint = checkpoints[""].flatMap(Checkpoint.init) else { return SourceBacklog(bytes: size) }
        if UInt64(info.st_dev) == checkpoint.device && UInt64(info.st_ino) == checkpoint.inode {
            return SourceBacklog(bytes: max(0, size - checkpoint.offset))
        }
        return SourceBacklog(bytes: size)
    }
}
