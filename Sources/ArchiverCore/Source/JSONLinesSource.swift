import Crypto
import Foundation
import JSONToolkit
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A JSON-lines file of stream records, one per line, appended to by another process.
///
/// Followed like `tail -F`: it waits for new lines, never takes a partial last line, finishes a file
/// that was renamed away (rotation) before going on with the new one, and starts over when the file
/// is truncated in place (copytruncate). Blank lines are skipped.
///
/// The checkpoint names the file (device and inode) and the byte after the last line taken, so a
/// restart finds its place even when the file was rotated in between. Each batch names the file it was
/// read from (``SourceFile``): a rotated file by its rotated name once the source knows it.
///
/// A line longer than `maxRecordBytes` is never held whole: the source reads on to its newline in chunks,
/// keeping its first ``oversizedPrefixBytes`` bytes, its length and a SHA-256 of all of it, and hands it out
/// as an ``OversizedRecord`` (the pipeline dead-letters it as `too-large`). Memory stays within about
/// `maxRecordBytes` plus two chunks however long a line is.
public final class JSONLinesSource: ChangeSource, @unchecked Sendable {
    /// The file (absolute path).
    public let path: String
    public var id: String { "jsonl:" + path }
    /// Bytes read at a time.
    let chunkSize: Int
    /// How long to wait between looks at the file when there is nothing new.
    let pollInterval: Double
    /// After a rotation, how long the old file must stay unchanged before it is considered finished.
    let rotationGrace: Double
    /// The longest line handed out whole; a longer one is handed out as an ``OversizedRecord``.
    public let maxRecordBytes: Int
    /// How much of an oversized line is kept (in the batch, and so in its dead letter).
    public static let oversizedPrefixBytes = 1024
    let logger: Logger

    public init(path: String, chunkSize: Int = 4 << 20, pollInterval: Double = 0.1, rotationGrace: Double = 1.0,
                maxRecordBytes: Int = TailOptions.defaultMaxRecordBytes, logger: Logger = Logger(label: "archiver.jsonl")) {
        self.path = FileSystem.absolute(path)
        self.maxRecordBytes = max(1, maxRecordBytes)
        self.chunkSize = chunkSize
        self.pollInterval = pollInterval
        self.rotationGrace = rotationGrace
        self.logger = logger
    }

    public func batches(after checkpoints: [String: String], follow: Bool, stop: StopSignal) -> AsyncThrowingStream<SourceBatch, any Error> {
        let reader = Reader(source: self, checkpoint: checkpoints[""].flatMap(Checkpoint.init), follow: follow, stop: stop)
        return AsyncThrowingStream(unfolding: { try await reader.next() })
    }

    /// `next line 74 (byte 67280) of /var/feed.jsonl (device 65024, inode 16252951)`; the file's present name
    /// when it was rotated since.
    public func describe(checkpoints: [String: String]) -> String {
        guard let text = checkpoints[""] else { return "no checkpoint" }
        guard let checkpoint = Checkpoint(text) else { return "an unreadable checkpoint \"\(text.prefix(64))\"" }
        let file = SourceFile(path: path, device: checkpoint.device, inode: checkpoint.inode)
        let place = "next line \(checkpoint.line) (byte \(checkpoint.offset))"
        switch file.currentPath {
        case path?: return "\(place) of \(file)"
        case let rotated?: return "\(place) of \(SourceFile(path: rotated, device: file.device, inode: file.inode)), rotated from \(path)"
        case nil: return "\(place) of a file no longer there (device \(file.device), inode \(file.inode)); \(path) will be read from its start"
        }
    }

    /// Where reading stands: which file, the byte after the last line taken, and that line's number.
    struct Checkpoint: Equatable {
        var device: UInt64
        var inode: UInt64
        var offset: Int64
        var line: Int

        init(device: UInt64, inode: UInt64, offset: Int64, line: Int) {
            self.device = device
            self.inode = inode
            self.offset = offset
            self.line = line
        }

        init?(_ text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 4, let d = UInt64(parts[0]), let i = UInt64(parts[1]), let o = Int64(parts[2]), let l = Int(parts[3]) else {
                return nil
            }
            self.init(device: d, inode: i, offset: o, line: l)
        }

        var text: String { "\(device):\(inode):\(offset):\(line)" }
    }
}

/// An open file and how far into it we are.
private struct OpenFile {
    var fd: Int32
    var device: UInt64
    var inode: UInt64
    var path: String
    /// What the file is called now, as far as the reader knows: `path`, or its rotated name once a rotation
    /// was noticed. Batches name the file by it.
    var name: String
    /// The byte after the last complete line handed out.
    var offset: Int64
    /// The number of the next line.
    var line: Int
    /// The file's first bytes (up to 64) as last seen: when they change, the file was truncated and written
    /// again (copytruncate), even if it has grown back past where we were.
    var head: [UInt8] = []
}

private final class Reader: @unchecked Sendable {
    let source: JSONLinesSource
    let follow: Bool
    let stop: StopSignal
    var checkpoint: JSONLinesSource.Checkpoint?
    var file: OpenFile?
    /// Bytes read past the last complete line.
    var carry: [UInt8] = []
    /// Older files (rotated away while we were stopped) to finish before the current one.
    var finished = false
    var rotatedSince: Date?
    var rotatedSize: Int64 = -1

    /// Where reads land before they join `carry`.
    let chunk: UnsafeMutableRawBufferPointer
    /// A line longer than the limit being passed over (`carry` is empty meanwhile).
    var skipping: SkippedLine?
    /// Set when `carry` was filled from the end of an oversized line's last chunk: it may hold whole lines.
    var carryMayHoldLines = false

    /// What is kept of a line too long to hold: where it starts, how long it is so far, its first bytes, its hash so far.
    struct SkippedLine {
        var offset: Int64
        var line: Int
        var length: Int64
        var prefix: [UInt8]
        var hasher: SHA256
    }

    init(source: JSONLinesSource, checkpoint: JSONLinesSource.Checkpoint?, follow: Bool, stop: StopSignal) {
        chunk = .allocate(byteCount: source.chunkSize, alignment: 16)
        self.source = source
        self.checkpoint = checkpoint
        self.follow = follow
        self.stop = stop
    }

    deinit {
        if let fd = file?.fd { close(fd) }
        chunk.deallocate()
    }

    func next() async throws -> SourceBatch? {
        if finished { return nil }
        if file == nil { try await openAtStart() }
        while true {
            if stop.isStopped { return finish() }
            guard var current = file else { return finish() }
            if let batch = try readLines(&current) {
                file = current
                return batch
            }
            file = current
            // At the end of what is there.
            if let rotated = try checkRotation(current) {
                if let batch = rotated { return batch }
                continue
            }
            if !follow {
                let batch = takeFinalLineIfComplete(&current)
                file = current
                finished = true
                return batch
            }
            await stop.sleep(seconds: source.pollInterval)
        }
    }

    func finish() -> SourceBatch? {
        finished = true
        return nil
    }

    /// Opens the file named by the checkpoint (found again if it was rotated away) or the current file.
    func openAtStart() async throws {
        while true {
            var info = stat()
            if stat(source.path, &info) == 0 {
                let device = UInt64(info.st_dev)
                let inode = UInt64(info.st_ino)
                if let checkpoint {
                    if checkpoint.device == device && checkpoint.inode == inode {
                        if Int64(info.st_size) >= checkpoint.offset {
                            file = try open(source.path, device: device, inode: inode, offset: checkpoint.offset, line: checkpoint.line)
                        } else {
                            source.logger.warning("the file is shorter than the checkpoint: it was truncated; reading it from the start",
                                                  metadata: ["source.path": "\(source.path)", "checkpoint.position": "\(checkpoint.offset)"])
                            file = try open(source.path, device: device, inode: inode, offset: 0, line: 1)
                        }
                    } else if let old = findRotated(device: checkpoint.device, inode: checkpoint.inode) {
                        source.logger.notice("the file was rotated while stopped; finishing the old file first",
                                             metadata: ["source.path": "\(old)"])
                        file = try open(old, device: checkpoint.device, inode: checkpoint.inode, offset: checkpoint.offset, line: checkpoint.line)
                    } else {
                        source.logger.warning("the file at the checkpoint is gone (rotated and removed?); reading the current file from the start",
                                              metadata: ["source.path": "\(source.path)"])
                        file = try open(source.path, device: device, inode: inode, offset: 0, line: 1)
                    }
                } else {
                    file = try open(source.path, device: device, inode: inode, offset: 0, line: 1)
                }
                return
            }
            let code = errno
            guard code == ENOENT, follow, !stop.isStopped else {
                throw SourceError.unreadable("cannot read the change feed '\(source.path)': \(String(cString: strerror(code)))"
                    + (code == ENOENT ? "; check the path given to --source jsonl:" : ""))
            }
            // Following a file that does not exist yet: wait for it.
            await stop.sleep(seconds: source.pollInterval)
            if stop.isStopped { return }
        }
    }

    func open(_ path: String, device: UInt64, inode: UInt64, offset: Int64, line: Int) throws -> OpenFile {
        let fd = Glibc_open(path)
        guard fd >= 0 else { throw SourceError.unreadable("cannot open the change feed '\(path)': \(String(cString: strerror(errno)))") }
        return OpenFile(fd: fd, device: device, inode: inode, path: path, name: path, offset: offset, line: line)
    }

    /// A sibling of the feed (same folder, name starting with the feed's name) with that identity.
    func findRotated(device: UInt64, inode: UInt64) -> String? {
        guard let found = SourceFile(path: source.path, device: device, inode: inode).currentPath, found != source.path else { return nil }
        return found
    }

    /// Reads what is there and hands out the complete lines, or nil at the end of the file.
    func readLines(_ file: inout OpenFile) throws -> SourceBatch? {
        while true {
            if skipping != nil { return try skipLongLine(&file) }
            if carryMayHoldLines {
                carryMayHoldLines = false
                if let lastNewline = carry.lastIndex(of: 0x0A) { return cutBatch(&file, through: lastNewline) }
            }
            let readOffset = file.offset + Int64(carry.count)
            let count = pread(file.fd, chunk.baseAddress, chunk.count, off_t(readOffset))
            if count > 0 { carry.append(contentsOf: UnsafeRawBufferPointer(start: chunk.baseAddress, count: count)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SourceError.unreadable("cannot read the change feed '\(file.path)': \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                // Truncated in place (copytruncate)? Then start over at its beginning.
                var info = stat()
                if fstat(file.fd, &info) == 0, Int64(info.st_size) < file.offset + Int64(carry.count) || headChanged(&file) {
                    source.logger.warning("the change feed was truncated; reading it from the start",
                                          metadata: ["source.path": "\(file.path)", "checkpoint.position": "\(file.offset)"])
                    file.offset = 0
                    file.line = 1
                    file.head = []
                    carry.removeAll()
                    continue
                }
                return nil
            }
            guard let lastNewline = carry.lastIndex(of: 0x0A) else {
                // `carry` holds one partial line: past the limit, it is passed over rather than held.
                if carry.count > source.maxRecordBytes { startSkipping(file) }
                continue
            }
            return cutBatch(&file, through: lastNewline)
        }
    }

    /// The line in `carry` is longer than the limit: keep its first bytes and hash, and let go of the rest.
    func startSkipping(_ file: OpenFile) {
        var hasher = SHA256()
        carry.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        skipping = SkippedLine(offset: file.offset, line: file.line, length: Int64(carry.count),
                               prefix: Array(carry.prefix(JSONLinesSource.oversizedPrefixBytes)), hasher: hasher)
        carry = []
        source.logger.warning("a line is longer than the record limit; reading on to its end without keeping it (it goes to the dead-letter folder as too-large)",
                              metadata: ["source.path": "\(file.name)", "source.line": "\(file.line)", "record.limit": "\(source.maxRecordBytes)"])
    }

    /// Reads on through an oversized line: the batch holding it once its newline is found, nil at the end of what is there.
    func skipLongLine(_ file: inout OpenFile) throws -> SourceBatch? {
        while var skipped = skipping {
            let count = pread(file.fd, chunk.baseAddress, chunk.count, off_t(skipped.offset + skipped.length))
            if count < 0 {
                if errno == EINTR { continue }
                throw SourceError.unreadable("cannot read the change feed '\(file.name)': \(String(cString: strerror(errno)))")
            }
            if count == 0 {
                var info = stat()
                if fstat(file.fd, &info) == 0, Int64(info.st_size) < skipped.offset + skipped.length || headChanged(&file) {
                    source.logger.warning("the change feed was truncated; reading it from the start",
                                          metadata: ["source.path": "\(file.name)", "checkpoint.position": "\(file.offset)"])
                    skipping = nil
                    file.offset = 0
                    file.line = 1
                    file.head = []
                    return try readLines(&file)
                }
                return nil
            }
            let bytes = UnsafeRawBufferPointer(start: chunk.baseAddress, count: count)
            if let newline = bytes.firstIndex(of: 0x0A) {
                skipped.hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[..<newline]))
                skipped.length += Int64(newline)
                carry = Array(bytes[(newline + 1)...])
                carryMayHoldLines = true
                skipping = skipped
                return finishSkipping(&file, newline: true)
            }
            skipped.hasher.update(bufferPointer: bytes)
            skipped.length += Int64(count)
            skipping = skipped
        }
        return nil
    }

    /// The batch of one oversized line (its first bytes), its checkpoint just past it.
    func finishSkipping(_ file: inout OpenFile, newline: Bool) -> SourceBatch {
        let skipped = skipping!
        skipping = nil
        file.offset = skipped.offset + skipped.length + (newline ? 1 : 0)
        file.line = skipped.line + 1
        let digest = hex(skipped.hasher.finalize())
        var batch = SourceBatch(
            buffer: skipped.prefix, records: [0..<skipped.prefix.count],
            positions: .lines(firstLine: skipped.line, baseOffset: skipped.offset, lineNumbers: [skipped.line]),
            checkpoint: JSONLinesSource.Checkpoint(device: file.device, inode: file.inode, offset: file.offset, line: file.line).text)
        batch.file = SourceFile(path: file.name, device: file.device, inode: file.inode)
        batch.oversized = [0: OversizedRecord(length: skipped.length, sha256: digest)]
        return batch
    }

    /// Whether the file's first bytes differ from those seen before (it was emptied and written again).
    /// Remembers them the first time there are any.
    func headChanged(_ file: inout OpenFile) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 64)
        let count = bytes.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, 64, 0) }
        guard count > 0 else { return file.offset > 0 }
        let now = Array(bytes[0..<count])
        let known = min(file.head.count, now.count)
        if known > 0 && now[0..<known] != file.head[0..<known] { return true }
        if now.count > file.head.count { file.head = now }
        return false
    }

    /// Hands out the lines in `carry[...end]` (end is a newline) and keeps the rest.
    func cutBatch(_ file: inout OpenFile, through end: Int) -> SourceBatch {
        // The batch takes carry's storage (no copy of the whole batch); carry keeps only the partial line.
        var rest = Array(carry[(end + 1)...])
        rest.reserveCapacity(rest.count + source.chunkSize)
        carry.removeSubrange((end + 1)...)
        var buffer = carry
        carry = rest
        var records: [Range<Int>] = []
        var lines: [Int] = []
        var lineStart = 0
        var line = file.line
        buffer.withUnsafeBufferPointer { bytes in
            var i = 0
            while i < bytes.count {
                guard let newline = memchrIndex(bytes, from: i) else { break }
                var a = lineStart
                var b = newline
                while a < b && isSpace(bytes[a]) { a += 1 }
                while b > a && isSpace(bytes[b - 1]) { b -= 1 }
                if a < b {
                    records.append(a..<b)
                    lines.append(line)
                }
                line += 1
                i = newline + 1
                lineStart = i
            }
        }
        let base = file.offset
        file.offset += Int64(buffer.count)
        file.line = line
        if buffer.count > 0 && records.isEmpty { buffer.removeAll() }
        var batch = SourceBatch(
            buffer: buffer, records: records,
            positions: .lines(firstLine: lines.first ?? line, baseOffset: base, lineNumbers: lines),
            checkpoint: JSONLinesSource.Checkpoint(device: file.device, inode: file.inode, offset: file.offset, line: file.line).text)
        batch.file = SourceFile(path: file.name, device: file.device, inode: file.inode)
        return batch
    }

    /// At the end with `--once`: a last line without a newline is taken only if it is a complete JSON
    /// object (a prefix of one never is); otherwise it is left for the next run.
    func takeFinalLineIfComplete(_ file: inout OpenFile) -> SourceBatch? {
        if skipping != nil {
            // Whether it is complete cannot be told without holding it: it waits for its newline, or a rotation.
            source.logger.notice("the last line has no newline yet and is longer than the record limit; it is left for the next run",
                                 metadata: ["source.path": "\(file.name)", "checkpoint.position": "\(file.offset)"])
            return nil
        }
        guard !carry.isEmpty else { return nil }
        let complete = (try? RecordScanner().scan(carry)) != nil
            || carry.last.map { $0 == UInt8(ascii: "}") } == true && (try? JSONValue.parse(carry)) != nil
        guard complete else {
            source.logger.notice("the last line has no newline yet and is incomplete; it is left for the next run",
                                 metadata: ["source.path": "\(file.path)", "checkpoint.position": "\(file.offset)"])
            return nil
        }
        carry.append(0x0A)
        return cutBatch(&file, through: carry.count - 1)
    }

    /// When following: has the path been given to a new file? Then finish the old one (after it has
    /// stayed unchanged for the grace period) and go on with the new one from its start.
    /// Returns nil when not rotated, `.some(batch)` with the old file's last line, or `.some(nil)` to read on.
    func checkRotation(_ current: OpenFile) throws -> SourceBatch?? {
        // An old file found at start (rotated while stopped) is finished as soon as its end is reached.
        let leftover = current.path != source.path
        guard follow || leftover else { return nil }
        var info = stat()
        let present = stat(source.path, &info) == 0
        if present && UInt64(info.st_dev) == current.device && UInt64(info.st_ino) == current.inode {
            rotatedSince = nil
            return nil
        }
        var own = stat()
        fstat(current.fd, &own)
        let size = Int64(own.st_size)
        let now = Date()
        if !leftover && (rotatedSince == nil || size != rotatedSize) {
            rotatedSince = now
            rotatedSize = size
            // From now on the old file's lines are named by its new name, when it has one beside the feed.
            if current.name == source.path, let renamed = findRotated(device: current.device, inode: current.inode) {
                file?.name = renamed
            }
            return nil
        }
        guard leftover || now.timeIntervalSince(rotatedSince!) >= source.rotationGrace else { return nil }
        guard present else { return nil }
        // The old file is finished. A last line without a newline is handed out as it is.
        var old = current
        var last: SourceBatch?
        if skipping != nil {
            last = finishSkipping(&old, newline: false)
        } else if !carry.isEmpty {
            carry.append(0x0A)
            last = cutBatch(&old, through: carry.count - 1)
        }
        close(old.fd)
        source.logger.notice("the change feed was rotated; going on with the new file", metadata: ["source.path": "\(source.path)"])
        file = try open(source.path, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), offset: 0, line: 1)
        rotatedSince = nil
        if var last {
            // Its checkpoint must point into the new file, or a restart would look for the old one.
            last.checkpoint = JSONLinesSource.Checkpoint(device: file!.device, inode: file!.inode, offset: 0, line: 1).text
            return .some(last)
        }
        return .some(nil)
    }
}

@inline(__always) private func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }

@inline(__always) private func memchrIndex(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
    guard from < bytes.count, let base = bytes.baseAddress else { return nil }
    guard let found = memchr(base + from, 0x0A, bytes.count - from) else { return nil }
    return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
}

private func Glibc_open(_ path: String) -> Int32 { open(path, O_RDONLY | O_CLOEXEC) }
