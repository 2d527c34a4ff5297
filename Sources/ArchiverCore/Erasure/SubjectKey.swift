import Crypto
import Foundation

/// The secret that turns a subject (a person's id) into the HMAC-SHA256 the state database and the receipts keep:
/// the subject itself is never stored. 32 random bytes in a file readable by its owner only (`erasure.key-file`,
/// by default `<state>/subject.key`), created at first use.
///
/// Losing the key loses the way from a subject to its index rows (a new key indexes new records under other
/// HMACs; `archiver index rebuild` rebuilds the index from the archive with the new key); copying it with the
/// state folder keeps the index usable on another machine.
public struct SubjectKey: Sendable {
    /// The key's 32 bytes.
    let bytes: [UInt8]
    /// HMAC state with the key already absorbed: each subject's code starts from a copy of it.
    private let keyed: KeyedHMAC
    /// The file it was read from.
    public let path: String

    /// The key file's default name in the state folder.
    public static let defaultFileName = "subject.key"

    /// Reads the key file, creating it (0600, 32 random bytes, synced) when it does not exist.
    /// - Throws: `ErasureError` when the file cannot be read or created, or does not hold 32 bytes.
    public init(path: String) throws {
        self.path = path
        if !FileSystem.exists(path) {
            _ = try? FileSystem.makeFolders(FileSystem.parent(of: path))
            var bytes = [UInt8](repeating: 0, count: 32)
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
            do {
                // Written aside, synced, then renamed: a crash never leaves a short key.
                let temporary = path + ".new"
                try? FileManager.default.removeItem(atPath: temporary)
                try FileSystem.createPrivateFile(temporary)
                try bytes.withUnsafeBytes { try FileSystem.writeFile(temporary, $0) }
                try FileSystem.fsyncPath(temporary)
                try FileSystem.rename(temporary, path)
                try FileSystem.fsyncPath(FileSystem.parent(of: path))
            } catch {
                throw ErasureError.keyUnusable("cannot create the subject key \(path): \(error); check the state folder's permissions")
            }
        }
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readFile(path)
        } catch {
            throw ErasureError.keyUnusable("cannot read the subject key \(path): \(error)")
        }
        guard bytes.count == 32 else {
            throw ErasureError.keyUnusable(
                "the subject key \(path) holds \(bytes.count) bytes, not 32; restore it from the state folder's backup (a new key cannot find subjects indexed under the old one)")
        }
        FileSystem.restrictToOwner(path)
        self.bytes = bytes
        keyed = KeyedHMAC(key: bytes)
    }

    /// The key of a state folder, at `file` when the configuration names one.
    public init(stateFolder: String, file: String?) throws {
        try self.init(path: file ?? (FileSystem.absolute(stateFolder) + "/" + Self.defaultFileName))
    }

    /// A key from bytes (tests).
    public init(bytes: [UInt8]) {
        self.bytes = bytes
        path = ""
        keyed = KeyedHMAC(key: bytes)
    }

    /// HMAC-SHA256 of the subject's UTF-8 bytes, as they are (no normalisation: `ｕser` and `user` are two
    /// subjects), in lowercase hex.
    public func hmac(_ subject: String) -> String {
        var subject = subject
        return subject.withUTF8 { keyed.code(UnsafeRawBufferPointer($0)) }.withUnsafeBytes { digest in
            String(unsafeUninitializedCapacity: digest.count * 2) { out in
                let digits: StaticString = "0123456789abcdef"
                let table = digits.utf8Start
                for (index, byte) in digest.enumerated() {
                    out[2 * index] = table[Int(byte >> 4)]
                    out[2 * index + 1] = table[Int(byte & 0xF)]
                }
                return digest.count * 2
            }
        }
    }
}

/// HMAC-SHA256 (RFC 2104) with the key absorbed once: the inner and outer hash states after the key's padded blocks.
/// Shared read-only: they are never mutated in place, only copied (a digest state is a value with copy-on-write
/// storage), so threads that copy them at once each get their own. The message is hashed from its bytes as they
/// are (no `DataProtocol` walk): what `HMAC<SHA256>` computes, for less per subject on the tail's hot path.
private struct KeyedHMAC: @unchecked Sendable {
    let inner: SHA256
    let outer: SHA256

    init(key: [UInt8]) {
        var block = key.count > 64 ? Array(SHA256.hash(data: key)) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256()
        var outer = SHA256()
        block.map { $0 ^ 0x36 }.withUnsafeBytes { inner.update(bufferPointer: $0) }
        block.map { $0 ^ 0x5C }.withUnsafeBytes { outer.update(bufferPointer: $0) }
        self.inner = inner
        self.outer = outer
    }

    /// The code of `message`.
    func code(_ message: UnsafeRawBufferPointer) -> SHA256Digest {
        var inner = inner
        inner.update(bufferPointer: message)
        var outer = outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }
}

/// Checks a subject given on the command line (or through the API) before it is hashed.
public enum SubjectCheck {
    /// The longest subject accepted, in UTF-8 bytes.
    public static let longest = 1024

    /// Why `subject` is refused, or nil. An accepted subject matches exactly the records whose template filled to
    /// the same bytes: `*` is the subject `*`, never a pattern.
    public static func problem(_ subject: String) -> String? {
        if subject.isEmpty { return "the subject is empty; give the id the subject template fills, e.g. --subject 123" }
        if subject.utf8.count > longest {
            return "the subject is \(subject.utf8.count) bytes long, more than \(longest); no subject template fills such a value"
        }
        if subject.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) }) {
            return "the subject holds a control character; give it as the record holds it, without newlines or escapes"
        }
        if subject.first == " " || subject.last == " " {
            return "the subject starts or ends with a space; quote it as the record holds it, without the outer spaces"
        }
        return nil
    }
}

/// A problem with an erasure: what is wrong and what to do. Match ``kind`` in code.
public struct ErasureError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case keyUnusable, invalidSubject, noSuchJob, notConfigured, jobState, receipt
    }

    public let kind: Kind
    public let description: String

    init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// The subject key file cannot be read or created.
    public static func keyUnusable(_ text: String) -> ErasureError { ErasureError(.keyUnusable, text) }
    /// The subject given is refused (see ``SubjectCheck``).
    public static func invalidSubject(_ text: String) -> ErasureError { ErasureError(.invalidSubject, text) }
    /// No job with that id.
    public static func noSuchJob(_ id: String) -> ErasureError {
        ErasureError(.noSuchJob, "no erasure job '\(id)' in the state folder; `archiver erase list` shows them")
    }
    /// What the erasure needs is not configured.
    public static func notConfigured(_ text: String) -> ErasureError { ErasureError(.notConfigured, text) }
    /// The job is not in a state that allows this.
    public static func jobState(_ text: String) -> ErasureError { ErasureError(.jobState, text) }
    /// A receipt cannot be read or does not match its chain.
    public static func receipt(_ text: String) -> ErasureError { ErasureError(.receipt, text) }
}
