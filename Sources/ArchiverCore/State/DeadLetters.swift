import Crypto
import Foundation

/// A record that could not be archived, kept whole with why: nothing is dropped.
public struct DeadLetter: Sendable, Codable, Equatable {
    /// Stable for a record's place in its source, so a replay after a crash rewrites the same entry.
    public var id: String
    /// The source id (e.g. `jsonl:/var/feed.jsonl`).
    public var source: String
    /// The partition of the source ("" or a shard id).
    public var partition: String
    /// Where the record stands in the source (`line 59 (byte 21734)`, `archiver_changes seq 7`, …).
    public var position: String
    /// For a file source, the file the record was read from: its name then (a rotated name when the source was
    /// finishing a rotated file) and its device and inode, which find it after a later rotation.
    public var file: SourceFile?
    /// Why it was not archived, in a sentence.
    public var reason: String
    /// A short name for the kind of problem (`malformed-json`, `no-old-image`, `write-failed`, …).
    public var code: String
    /// How many times it has been tried.
    public var attempts: Int
    public var firstFailedAt: String
    public var lastFailedAt: String
    /// The record's bytes, exactly as read (base64 in the file); for a record over the size limit, its first
    /// bytes only (`recordBytes` and `recordSHA256` then describe all of it).
    public var raw: [UInt8]
    /// The whole record's length, when `raw` holds only its beginning (a `too-large` record).
    public var recordBytes: Int64?
    /// The SHA-256 (hex) of the whole record, when `raw` holds only its beginning.
    public var recordSHA256: String?

    /// Whether `raw` is only the beginning of the record.
    public var isCut: Bool { recordBytes.map { $0 > Int64(raw.count) } ?? false }

    enum CodingKeys: String, CodingKey {
        case id, source, partition, position, file, reason, code, attempts
        case firstFailedAt = "first_failed_at"
        case lastFailedAt = "last_failed_at"
        case raw = "raw_base64"
        case recordBytes = "record_bytes"
        case recordSHA256 = "record_sha256"
    }

    public init(source: String, partition: String, position: String, file: SourceFile? = nil, reason: String, code: String, raw: [UInt8], at date: Date) {
        self.id = DeadLetter.id(source: source, partition: partition, position: position, file: file)
        self.source = source
        self.partition = partition
        self.position = position
        self.file = file
        self.reason = reason
        self.code = code
        self.attempts = 1
        let stamp = ISO8601DateFormatter().string(from: date)
        self.firstFailedAt = stamp
        self.lastFailedAt = stamp
        self.raw = raw
    }

    /// A hash of the source, partition and position, and of the file's device and inode for a file source:
    /// a rename keeps them, so a replay after a crash (even across a rotation) rewrites the same entry, while
    /// line 5 of a rotated file and line 5 of the new one get entries of their own.
    public static func id(source: String, partition: String, position: String, file: SourceFile? = nil) -> String {
        let identity = file.map { "\u{0}\($0.device):\($0.inode)" } ?? ""
        return hexPrefix(SHA256.hash(data: Array("\(source)\u{0}\(partition)\u{0}\(position)\(identity)".utf8)), 24)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        source = try c.decode(String.self, forKey: .source)
        partition = try c.decode(String.self, forKey: .partition)
        position = try c.decode(String.self, forKey: .position)
        file = try c.decodeIfPresent(SourceFile.self, forKey: .file)
        reason = try c.decode(String.self, forKey: .reason)
        code = try c.decode(String.self, forKey: .code)
        attempts = try c.decode(Int.self, forKey: .attempts)
        firstFailedAt = try c.decode(String.self, forKey: .firstFailedAt)
        lastFailedAt = try c.decode(String.self, forKey: .lastFailedAt)
        guard let data = Data(base64Encoded: try c.decode(String.self, forKey: .raw)) else {
            throw DecodingError.dataCorruptedError(forKey: .raw, in: c, debugDescription: "raw_base64 is not base64")
        }
        raw = Array(data)
        recordBytes = try c.decodeIfPresent(Int64.self, forKey: .recordBytes)
        recordSHA256 = try c.decodeIfPresent(String.self, forKey: .recordSHA256)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(source, forKey: .source)
        try c.encode(partition, forKey: .partition)
        try c.encode(position, forKey: .position)
        try c.encodeIfPresent(file, forKey: .file)
        try c.encode(reason, forKey: .reason)
        try c.encode(code, forKey: .code)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(firstFailedAt, forKey: .firstFailedAt)
        try c.encode(lastFailedAt, forKey: .lastFailedAt)
        try c.encode(Data(raw).base64EncodedString(), forKey: .raw)
        try c.encodeIfPresent(recordBytes, forKey: .recordBytes)
        try c.encodeIfPresent(recordSHA256, forKey: .recordSHA256)
    }
}

/// The dead-letter folder, `<state>/dead-letters/`: one JSON file per entry (`<id>.json`), each written
/// atomically and made durable before the checkpoint moves past its record.
public final class DeadLetterFolder: Sendable {
    /// The folder.
    public let path: String
    /// Nil when the state folder has no dead-letter folder (nothing was ever dead-lettered) and it was not to be made.
    private let files: LocalArchiveStore?

    /// Opens the dead-letter folder of a state folder.
    /// - Parameter access: `.create` (the tail) makes the state folder and its dead-letter folder when missing;
    ///   `.existing` and `.readOnly` (the `dlq` commands) need the state folder to exist, create nothing, and
    ///   find no entries when it has no dead-letter folder.
    /// - Throws: `StateError` naming the absolute path when the state folder is needed and missing.
    public init(stateFolder: String, access: LocalArchiveStore.Access = .create) throws {
        let state = FileSystem.absolute(stateFolder)
        path = state + "/dead-letters"
        if access == .create {
            files = try LocalArchiveStore(path: path)
            return
        }
        guard FileSystem.isFolder(state) else {
            throw StateError.unusable(
                "there is no state folder at '\(state)'; check --state (a state folder is made by `archiver tail`; "
                    + "without --state it is .archiver in the working folder)")
        }
        files = FileSystem.isFolder(path) ? try LocalArchiveStore(path: path, access: access) : nil
    }

    /// Writes entries durably. Throws when any cannot be written (the caller must not move the checkpoint).
    public func write(_ entries: [DeadLetter]) async throws {
        guard !entries.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let objects = try entries.map { ArchiveObject(key: "\($0.id).json", body: Array(try encoder.encode($0))) }
        guard let files else { throw StateError.unusable("cannot write to the dead-letter folder \(path): it does not exist") }
        let failures = await files.put(objects)
        if let (_, failure) = failures.first {
            throw StateError.unusable("cannot write to the dead-letter folder \(path): \(failure)")
        }
    }

    /// Every entry, oldest first. Throws on the first entry file that cannot be read (see `scan` to go on past it).
    public func entries() async throws -> [DeadLetter] {
        let scanned = try await scan()
        if let damaged = scanned.damaged.first { throw damaged.error }
        return scanned.entries
    }

    /// Every entry that reads back, oldest first, and every entry file that does not (named, never skipped silently).
    public func scan() async throws -> (entries: [DeadLetter], damaged: [DamagedDeadLetter]) {
        var entries: [DeadLetter] = []
        var damaged: [DamagedDeadLetter] = []
        guard let files else { return ([], []) }
        for try await page in files.list(prefix: "") {
            for object in page where object.key.hasSuffix(".json") && !object.key.contains("/") {
                let id = String(object.key.dropLast(5))
                do {
                    entries.append(try await entry(id: id))
                } catch let error as DamagedDeadLetter {
                    damaged.append(error)
                }
            }
        }
        return (entries.sorted { ($0.firstFailedAt, $0.id) < ($1.firstFailedAt, $1.id) }, damaged.sorted { $0.id < $1.id })
    }

    /// One entry. Throws `DamagedDeadLetter` when its file does not read back as an entry.
    public func entry(id: String) async throws -> DeadLetter {
        try Self.checkID(id)
        let bytes: [UInt8]
        do {
            guard let files else { throw ArchiveStoreError.notFound("\(id).json") }
            bytes = try await files.get("\(id).json")
        } catch let error as ArchiveStoreError where error.isNotFound {
            throw StateError.noDeadLetter(id, in: path)
        }
        do {
            return try JSONDecoder().decode(DeadLetter.self, from: Data(bytes))
        } catch {
            throw DamagedDeadLetter(id: id, path: "\(path)/\(id).json", problem: Self.problem(bytes, error))
        }
    }

    /// Whether an entry file exists (whole or damaged).
    public func contains(id: String) async throws -> Bool {
        try Self.checkID(id)
        return try await files?.head("\(id).json") != nil
    }

    private static func checkID(_ id: String) throws {
        guard !id.isEmpty, id.allSatisfy({ $0.isHexDigit }) else {
            throw StateError.invalidDeadLetterID(id)
        }
    }

    /// What is wrong with an entry file, in a few words.
    static func problem(_ bytes: [UInt8], _ error: any Error) -> String {
        if bytes.isEmpty { return "the file is empty" }
        switch error {
        case DecodingError.keyNotFound(let key, _): return "it has no '\(key.stringValue)' field"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "its '\(context.codingPath.map(\.stringValue).joined(separator: "."))' field is not what an entry holds"
        case DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty:
            return "its '\(context.codingPath.map(\.stringValue).joined(separator: "."))' field is damaged"
        default: return "it is not complete JSON (\(bytes.count) bytes; cut short?)"
        }
    }

    /// Removes entries (after they were archived, or when dropped by hand).
    public func remove(ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await files?.delete(ids.map { "\($0).json" })
    }
}

/// A dead-letter entry file that does not read back as an entry (cut short, emptied, edited by hand).
///
/// It is never removed or rewritten behind one's back: the tail does not read entries, `dlq list` and
/// `dlq retry` name it and go on with the others, and `dlq drop <id>` removes it once someone has looked.
public struct DamagedDeadLetter: Error, Sendable, Codable, Equatable, CustomStringConvertible {
    public let id: String
    /// The entry file.
    public let path: String
    /// What is wrong with it.
    public let problem: String

    public var description: String {
        "the dead-letter entry \(path) is damaged: \(problem). It is left as it is for inspection; "
            + "once you have looked at it, `archiver dlq drop \(id)` (with the same --state) removes it"
    }

    public var error: StateError { StateError.damaged(description) }
}
