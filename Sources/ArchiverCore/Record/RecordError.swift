/// Why a record cannot be read. Its description is the dead-letter reason: it says what is wrong and where.
public struct RecordError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Reason: Sendable, Equatable {
        case empty
        case notAnObject
        case truncated
        case trailingData
        case unexpected(expected: String, found: UInt8)
        case badLiteral
        case badNumber
        case badEscape
        case unpairedSurrogate
        case controlCharacterInString(UInt8)
        case invalidUTF8
        case tooDeep
        case duplicateField(String)
        case missingField(String)
        case wrongType(field: String, expected: String)
        case unknownEventName(String)
        case badKey(String, String)
        case badEventTime(String)
        case noOldImage
        case noKeys
        /// Longer than the limit (`--max-record-bytes`): `bytes` long, `limit` allowed.
        case tooLarge(bytes: Int64, limit: Int)
    }

    /// What is wrong.
    public let reason: Reason
    /// Byte offset in the record where the problem was found.
    public let offset: Int

    public init(_ reason: Reason, offset: Int = 0) {
        self.reason = reason
        self.offset = offset
    }

    /// A short, stable name for the kind of problem (used in summaries and tests).
    public var code: String {
        switch reason {
        case .empty: "empty"
        case .notAnObject: "not-an-object"
        case .truncated: "truncated-json"
        case .trailingData: "trailing-data"
        case .unexpected: "malformed-json"
        case .badLiteral: "malformed-json"
        case .badNumber: "malformed-number"
        case .badEscape: "bad-escape"
        case .unpairedSurrogate: "unpaired-surrogate"
        case .controlCharacterInString: "control-character"
        case .invalidUTF8: "invalid-utf8"
        case .tooDeep: "too-deep"
        case .duplicateField: "duplicate-field"
        case .missingField: "missing-field"
        case .wrongType: "wrong-type"
        case .unknownEventName: "unknown-event-name"
        case .badKey: "bad-key"
        case .badEventTime: "bad-event-time"
        case .noOldImage: "no-old-image"
        case .noKeys: "no-keys"
        case .tooLarge: "too-large"
        }
    }

    public var description: String {
        let at = " (at byte \(offset))"
        switch reason {
        case .empty: return "the record is empty"
        case .notAnObject: return "the record is not a JSON object"
        case .truncated: return "the JSON ends before the record is complete" + at
        case .trailingData: return "there is data after the end of the JSON object" + at
        case .unexpected(let expected, let found):
            return "malformed JSON: expected \(expected), found \(describe(found))" + at
        case .badLiteral: return "malformed JSON: not true, false or null" + at
        case .badNumber: return "malformed JSON number" + at
        case .badEscape: return "malformed escape in a JSON string" + at
        case .unpairedSurrogate: return "a \\u escape names half of a surrogate pair" + at
        case .controlCharacterInString(let byte):
            return "a raw control character (0x\(String(byte, radix: 16))) inside a JSON string" + at
        case .invalidUTF8: return "the record is not valid UTF-8" + at
        case .tooDeep: return "nesting deeper than \(RecordScanner.maximumDepth) levels" + at
        case .duplicateField(let name): return "the field \(name) appears twice" + at
        case .missingField(let name): return "the record has no \(name)"
        case .wrongType(let field, let expected): return "\(field) should be \(expected)" + at
        case .unknownEventName(let name): return "unknown eventName \"\(name.prefix(64))\" (expected INSERT, MODIFY or REMOVE)"
        case .badKey(let name, let problem): return "key attribute \(name.prefix(128)): \(problem)" + at
        case .badEventTime(let problem): return "dynamodb.ApproximateCreationDateTime: \(problem)"
        case .noOldImage:
            return "a REMOVE without dynamodb.OldImage cannot be archived (the stream's view type must be NEW_AND_OLD_IMAGES or OLD_IMAGE)"
        case .noKeys: return "a REMOVE without dynamodb.Keys cannot be named"
        case .tooLarge(let bytes, let limit):
            return "the record is \(bytes) bytes, over the limit of \(limit) (--max-record-bytes), so it is not archived; "
                + "the entry keeps its first \(JSONLinesSource.oversizedPrefixBytes) bytes, its length and the SHA-256 of all of it"
        }
    }
}

private func describe(_ byte: UInt8) -> String {
    if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
    return "byte 0x" + String(byte, radix: 16)
}
