import Crypto

/// The name of one archived deletion, relative to the archive root:
///
///     2024/01/15/USER#123_PROFILE.103000.1100000000017454423011.manual.json.gz
///     └─ date ─┘ └─ item key ──┘ └time┘ └─ sequence number ─┘ └kind┘
///
/// - The date and time are the deletion's event time in UTC, so a replay lands in the same place.
/// - The item key is the key values in key order, joined by `_`, each encoded so that no value can
///   climb out of the archive (`/`, `\`, `%`, control characters and a leading `.` are percent-encoded).
/// - The sequence number keeps two deletions of one item apart; a record without one uses a hash of its bytes.
/// - The kind says whether the item was deleted by hand (`manual`) or expired (`ttl`).
/// Every name fits in one 255-byte path segment: an item key too long is cut and a hash of the whole added.
public struct ArchiveKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The item key as it stands in the name (encoded).
    public let itemKey: String
    public let time: DeletionTime
    /// The sequence part as it stands in the name.
    public let sequence: String
    public let kind: DeletionKind

    /// The name's file extension.
    public static let suffix = ".json.gz"
    /// The longest encoded item key kept whole; a longer one is cut to `truncatedLength` plus `~` and a hash.
    static let maximumItemKeyLength = 184
    static let truncatedLength = 160

    /// The key relative to the archive root.
    public var path: String { "\(time.datePath)/\(fileName)" }
    /// The last path segment.
    public var fileName: String { "\(itemKey).\(time.compactTime).\(sequence).\(kind.rawValue)\(Self.suffix)" }
    public var description: String { path }

    /// Names a deletion from its record's fields.
    /// - Parameters:
    ///   - keys: the item's key attributes, in key order.
    ///   - sequenceNumber: `dynamodb.SequenceNumber`, when the record has one.
    ///   - recordBytes: the whole record, hashed when there is no usable sequence number.
    public init(keys: [KeyAttribute], time: DeletionTime, sequenceNumber: String?, kind: DeletionKind, recordBytes: UnsafeRawBufferPointer) {
        self.time = time
        self.kind = kind
        self.itemKey = Self.encodeItemKey(keys.map(\.value))
        if let sequenceNumber, Self.isPlainSequence(sequenceNumber) {
            self.sequence = sequenceNumber
        } else if let sequenceNumber {
            self.sequence = "s" + hexPrefix(SHA256.hash(data: Array(sequenceNumber.utf8)), 20)
        } else {
            self.sequence = "h" + hexPrefix(SHA256.hash(data: recordBytes), 20)
        }
    }

    private init(itemKey: String, time: DeletionTime, sequence: String, kind: DeletionKind) {
        self.itemKey = itemKey
        self.time = time
        self.sequence = sequence
        self.kind = kind
    }

    /// Reads a key as `path` writes it; nil for anything else (temporary files, foreign objects).
    public init?(path: String) {
        // Split on bytes: a '/' or '.' followed by a combining mark is one Character, but still a separator.
        let segments = path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard segments.count == 4, path.utf8.count > Self.suffix.utf8.count, path.utf8.reversed().starts(with: Self.suffix.utf8.reversed()),
            let year = Int(segments[0]), segments[0].utf8.count == 4,
            let month = Int(segments[1]), segments[1].utf8.count == 2,
            let day = Int(segments[2]), segments[2].utf8.count == 2
        else { return nil }
        let name = Array(segments[3].utf8.dropLast(Self.suffix.utf8.count))
        let parts = name.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard parts.count >= 4 else { return nil }
        let kindText = parts[parts.count - 1]
        let sequence = parts[parts.count - 2]
        let clock = parts[parts.count - 3]
        guard let kind = DeletionKind(rawValue: kindText), clock.utf8.count == 6,
            let hms = Int(clock), !sequence.isEmpty
        else { return nil }
        let itemKey = parts[0..<(parts.count - 3)].joined(separator: ".")
        guard (1...12).contains(month), (1...31).contains(day) else { return nil }
        let days = DeletionTime.days(year: year, month: month, day: day)
        let seconds = days * 86_400 + Int64(hms / 10_000 * 3600 + hms / 100 % 100 * 60 + hms % 100)
        guard let time = DeletionTime(epochSeconds: seconds), time.datePath == segments[0...2].joined(separator: "/") else {
            return nil
        }
        self.init(itemKey: itemKey, time: time, sequence: String(sequence), kind: kind)
    }

    public static func < (lhs: ArchiveKey, rhs: ArchiveKey) -> Bool { lhs.path < rhs.path }

    // MARK: Encoding

    /// DynamoDB sequence numbers are digits; anything else of modest length made of safe characters is kept too.
    static func isPlainSequence(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 48
            && text.utf8.allSatisfy { isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// Joins encoded key values with `_`; cuts a long result and adds a hash of the whole.
    public static func encodeItemKey(_ values: [String]) -> String {
        var encoded = values.map(encodeValue).joined(separator: "_")
        if encoded.isEmpty { encoded = "-" }
        if encoded.utf8.first == UInt8(ascii: ".") { encoded = "%2E" + String(encoded.unicodeScalars.dropFirst()) }
        guard encoded.utf8.count > maximumItemKeyLength else { return encoded }
        let digest = hexPrefix(SHA256.hash(data: Array(encoded.utf8)), 20)
        var cut = ""
        var length = 0
        for character in encoded {
            let size = character.utf8.count
            if length + size > truncatedLength { break }
            cut.append(character)
            length += size
        }
        // Never end inside a %XX escape.
        if let percent = cut.suffix(2).lastIndex(of: "%") { cut = String(cut[..<percent]) }
        return cut + "~" + digest
    }

    /// Keeps letters, digits and `# - _ . = @ + ,` and printable non-ASCII characters; percent-encodes every other byte.
    public static func encodeValue(_ value: String) -> String {
        // Most key values need no encoding: keep them as they are.
        if value.utf8.allSatisfy({ isASCIIAlphanumeric($0) || isSafePunctuation($0) }) { return value }
        var result = ""
        result.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            if scalar.isASCII {
                let byte = UInt8(scalar.value)
                if isASCIIAlphanumeric(byte) || isSafePunctuation(byte) {
                    result.unicodeScalars.append(scalar)
                } else {
                    appendPercent(byte, to: &result)
                }
            } else if isPrintable(scalar) {
                result.unicodeScalars.append(scalar)
            } else {
                for byte in String(scalar).utf8 { appendPercent(byte, to: &result) }
            }
        }
        return result
    }
}

/// `# - _ . = @ + ,`: kept as they are in key values.
@inline(__always) private func isSafePunctuation(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "#"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
        UInt8(ascii: "="), UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: ","):
        return true
    default:
        return false
    }
}

@inline(__always) func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
}

private func isPrintable(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default:
        return true
    }
}

private func appendPercent(_ byte: UInt8, to result: inout String) {
    func digit(_ nibble: UInt8) -> Unicode.Scalar { Unicode.Scalar(nibble < 10 ? 0x30 + nibble : 0x37 + nibble) }
    result.unicodeScalars.append("%")
    result.unicodeScalars.append(digit(byte >> 4))
    result.unicodeScalars.append(digit(byte & 0xF))
}

/// The first `count` hex digits of a digest.
func hexPrefix<D: Digest>(_ digest: D, _ count: Int) -> String {
    String(hex(Array(digest)).prefix(count))
}

/// Lowercase hex of bytes.
public func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}
