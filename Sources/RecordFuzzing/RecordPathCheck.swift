import ArchiverCore
import Foundation

/// Runs one input through the path a feed line takes — scan, classify, name the object, gzip — and checks
/// what must hold whatever the input:
///
/// - an archived record's key is safe: relative, inside the archive (no empty, `.` or `..` segment, no
///   hidden segment), no control byte or backslash, every segment ≤ 255 bytes, the whole ≤ 1024 bytes,
///   under the date folders of its deletion time, readable back by `ArchiveKey(path:)`, ending in its kind;
/// - the archived bytes are the input bytes, and a second run gives the same name and bytes;
/// - a dead letter's offset lies within the input;
/// - the scanner agrees with Foundation's `JSONSerialization` on what is JSON: a JSON object Foundation
///   reads is never dead-lettered as malformed, and a record archived, passed over or dead-lettered after
///   being read whole (no OldImage, an unknown eventName, …) is one Foundation reads
///   (except where Foundation has limits of its own: nesting depth, numbers it cannot represent).
///
/// Used by the fuzz target (`scripts/fuzz`) and by the tests that replay `fixtures/fuzz/`.
public final class RecordPathCheck {
    private let processor = RecordProcessor(gzipLevel: 1)
    /// Compare with `JSONSerialization` (slower; on by default).
    public var compareWithFoundation: Bool

    public init(compareWithFoundation: Bool = true) {
        self.compareWithFoundation = compareWithFoundation
    }

    /// The dead-letter codes that say the bytes are not JSON (as opposed to JSON that is not a usable record).
    public static let syntaxCodes: Set<String> = [
        "empty", "not-an-object", "truncated-json", "trailing-data", "malformed-json", "malformed-number",
        "bad-escape", "unpaired-surrogate", "control-character", "invalid-utf8", "too-deep",
    ]

    /// The dead-letter codes given only after the whole record was read as JSON: the record is JSON.
    public static let wholeRecordCodes: Set<String> = ["missing-field", "unknown-event-name", "no-old-image", "no-keys", "bad-event-time"]

    /// What became of the input, as a short text ("archived <key>", "passed-over", "dead-letter <code>").
    public private(set) var lastOutcome = ""

    /// Where the scanner stopped, for the last input it dead-lettered.
    private var lastErrorOffset = 0

    /// Checks one input; returns what is wrong, or nil.
    public func check(_ input: UnsafeRawBufferPointer) -> String? {
        let outcome = processor.process(input)
        var accepted = true
        switch outcome {
        case .archive(let object, let kind):
            lastOutcome = "archived \(object.key)"
            if let problem = checkArchived(object, kind, input) { return problem }
        case .passOver(let event):
            lastOutcome = "passed-over \(event.rawValue)"
        case .deadLetter(let error):
            lastOutcome = "dead-letter \(error.code)"
            lastErrorOffset = error.offset
            if error.offset < 0 || error.offset > input.count {
                return "dead letter \(error.code) at byte \(error.offset), outside a record of \(input.count) bytes"
            }
            _ = error.description
            if Self.syntaxCodes.contains(error.code) {
                accepted = false
            } else if !Self.wholeRecordCodes.contains(error.code) {
                // Raised where the field is read, before the rest of the record: no claim either way.
                return nil
            }
        }
        guard compareWithFoundation else { return nil }
        return compare(scannerAccepted: accepted, input)
    }

    public func check(_ input: [UInt8]) -> String? {
        input.withUnsafeBytes { check($0) }
    }

    // MARK: Archived objects

    private func checkArchived(_ object: ArchiveObject, _ kind: DeletionKind, _ input: UnsafeRawBufferPointer) -> String? {
        let key = object.key
        if let problem = validateArchiveKey(key) { return "unsafe key \(key.debugDescription): \(problem)" }
        let segments = key.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        if segments.count != 4 { return "the key \(key.debugDescription) has \(segments.count) segments, not 4" }
        if let long = segments.first(where: { $0.count > 255 }) { return "a segment of \(long.count) bytes in \(key.debugDescription)" }
        if key.utf8.count > 1024 { return "a key of \(key.utf8.count) bytes" }
        if segments.contains(where: { $0.elementsEqual("..".utf8) || $0.elementsEqual(".".utf8) || $0.isEmpty }) {
            return "the key \(key.debugDescription) climbs out of the archive"
        }
        guard let parsed = ArchiveKey(path: key) else { return "ArchiveKey(path:) cannot read back \(key.debugDescription)" }
        if parsed.path != key { return "ArchiveKey(path:) reads \(key.debugDescription) back as \(parsed.path.debugDescription)" }
        if parsed.kind != kind { return "the key \(key.debugDescription) says \(parsed.kind), the record is \(kind)" }
        if object.metadata["archiver-kind"] != kind.rawValue { return "metadata kind \(object.metadata["archiver-kind"] ?? "nil") for a \(kind) record" }
        if object.metadata["archiver-deleted-at"] != parsed.time.description {
            return "metadata deleted-at \(object.metadata["archiver-deleted-at"] ?? "nil"), the key says \(parsed.time)"
        }
        let original = Array(input)
        guard let body = try? gunzip(object.body) else { return "the archived object is not gzip" }
        if body != original { return "the archived bytes differ from the input" }
        if case .archive(let again, _) = processor.process(input) {
            if again.key != key || again.body != object.body { return "a replay gives another object (\(again.key.debugDescription))" }
        } else {
            return "a replay gives another outcome"
        }
        return nil
    }

    // MARK: Agreement with Foundation

    private func compare(scannerAccepted: Bool, _ input: UnsafeRawBufferPointer) -> String? {
        // Foundation guesses UTF-16 and UTF-32 from NUL bytes and byte-order marks; the feed is UTF-8 only.
        if input.contains(0) { return nil }
        if input.count >= 2 && ((input[0] == 0xFE && input[1] == 0xFF) || (input[0] == 0xFF && input[1] == 0xFE)) { return nil }
        // Lone surrogate escapes are grammatical JSON (RFC 8259 §8.2) that the scanner keeps untouched inside
        // images (fixtures/hostile/README.md), and Foundation refuses: Foundation sees them as plain escapes,
        // except when the scanner refused one where it decodes the text.
        let data = lastOutcome == "dead-letter unpaired-surrogate" ? Data(input) : Self.withoutSurrogateEscapes(input)
        let foundation: Result<Any, Error> = Result { try JSONSerialization.jsonObject(with: data, options: []) }
        switch (scannerAccepted, foundation) {
        case (true, .success(let value)):
            if !(value is [String: Any]) && !(value is NSDictionary) { return "the scanner read a record Foundation reads as \(type(of: value))" }
            return nil
        case (true, .failure(let error)):
            if Self.foundationLimit(error, input) { return nil }
            return "the scanner accepted (\(lastOutcome)) what Foundation rejects: \(error)"
        case (false, .success(let value)):
            // A top-level array or scalar is JSON but not a record.
            guard value is [String: Any] || value is NSDictionary else { return nil }
            if Self.foundationLeniency(at: lastErrorOffset, input) { return nil }
            return "Foundation reads a JSON object the scanner rejects as \(lastOutcome)"
        case (false, .failure):
            return nil
        }
    }

    /// Places where Foundation accepts what RFC 8259 does not, and the scanner is right to refuse: a comma
    /// before `}` or `]`.
    static func foundationLeniency(at offset: Int, _ input: UnsafeRawBufferPointer) -> Bool {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        var at = offset
        while at < input.count && isSpace(input[at]) { at += 1 }
        var before = min(offset, input.count) - 1
        while before >= 0 && isSpace(input[before]) { before -= 1 }
        let closes = at < input.count && (input[at] == UInt8(ascii: "}") || input[at] == UInt8(ascii: "]"))
        return closes && before >= 0 && input[before] == UInt8(ascii: ",")
    }

    /// Inputs Foundation rejects for its own limits rather than for their syntax: deeper nesting than it
    /// allows, numbers it cannot represent.
    static func foundationLimit(_ error: Error, _ input: UnsafeRawBufferPointer) -> Bool {
        let text = "\(error)"
        return text.contains("nested") || text.contains("not representable")
    }

    /// The input with every `\uD800`–`\uDFFF` escape made `\u0058`: the same grammar, no surrogates.
    static func withoutSurrogateEscapes(_ input: UnsafeRawBufferPointer) -> Data {
        var bytes = Array(input)
        func isHex(_ byte: UInt8) -> Bool { (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66) }
        var i = 0
        while i + 5 < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2] | 0x20 == UInt8(ascii: "d"),
                isHex(bytes[i + 3]), bytes[i + 3] >= UInt8(ascii: "8"),
                isHex(bytes[i + 4]), isHex(bytes[i + 5])
            {
                bytes.replaceSubrange((i + 2)..<(i + 6), with: Array("0058".utf8))
                i += 6
            } else {
                i += 1
            }
        }
        return Data(bytes)
    }
}
