/// Reads a stream record in one pass over its bytes: it validates the whole text as JSON (RFC 8259, UTF-8)
/// and picks out only the fields the pipeline needs, without building the item images.
///
/// The scanner never recurses, so nesting of any depth costs no stack; it allocates only for the
/// fields it returns. One scanner is used by one thread at a time.
public struct RecordScanner: Sendable {
    /// The deepest nesting accepted. DynamoDB itself allows 32 levels; this is far above any real record.
    public static let maximumDepth = 10_000

    public init() {}

    /// Scans one record.
    /// - Throws: `RecordError` naming what is wrong and where.
    public func scan(_ bytes: UnsafeRawBufferPointer) throws(RecordError) -> ScannedRecord {
        guard let base = bytes.baseAddress, bytes.count > 0 else { throw RecordError(.empty) }
        var cursor = Cursor(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        return try cursor.record()
    }

    /// Scans one record held in an array.
    public func scan(_ bytes: [UInt8]) throws(RecordError) -> ScannedRecord {
        do {
            return try bytes.withUnsafeBytes { buffer in try scan(buffer) }
        } catch let error as RecordError {
            throw error
        } catch {
            throw RecordError(.empty)
        }
    }
}

/// What the scanner read from a record: everything the pipeline decides on.
public struct ScannedRecord: Sendable, Equatable {
    /// INSERT, MODIFY or REMOVE.
    public var eventName: EventName
    /// The record's `eventID`, when it has one.
    public var eventID: String?
    /// `userIdentity.type` and `userIdentity.principalId`, when present.
    public var identityType: String?
    public var principalID: String?
    /// `dynamodb.ApproximateCreationDateTime`, as read.
    public var eventTime: EventTime?
    /// `dynamodb.Keys`, in the order the record lists them.
    public var keys: [KeyAttribute]
    /// `dynamodb.Keys` was present.
    public var hasKeys: Bool
    /// `dynamodb.SequenceNumber`, when present.
    public var sequenceNumber: String?
    /// `dynamodb.OldImage` is present and is an object.
    public var hasOldImage: Bool
    /// Byte range of `dynamodb.OldImage`'s value within the record, when present.
    public var oldImageRange: Range<Int>?
    /// Byte range of `dynamodb.Keys`'s value within the record, when present.
    public var keysRange: Range<Int>?
    /// Byte range of the top-level `eventSourceARN` string (quotes included), when present once as a string: the
    /// record's table, for deletion rules. Only the range is kept; nothing is decoded on the way in.
    public var eventSourceARNRange: Range<Int>?
    /// `eventSourceARN` appears more than once: the record's table is ambiguous, so no rule of a named table takes it.
    public var eventSourceARNRepeated = false

    /// How the item left the table: a TTL expiry (DynamoDB's own service identity) or a manual delete.
    public var deletionKind: DeletionKind {
        identityType == "Service" && principalID == "dynamodb.amazonaws.com" ? .ttl : .manual
    }
}

/// The kind of change a record describes.
public enum EventName: String, Sendable, Equatable {
    case insert = "INSERT"
    case modify = "MODIFY"
    case remove = "REMOVE"
}

/// How an item was deleted.
public enum DeletionKind: String, Sendable, Equatable, Codable, CaseIterable {
    /// Deleted by a client (an application, a person).
    case manual
    /// Expired by DynamoDB's time to live.
    case ttl
}

/// A key attribute of an item: its name, its type (S, N or B) and its value as the record writes it.
public struct KeyAttribute: Sendable, Equatable, Hashable {
    public var name: String
    public var type: KeyType
    public var value: String

    public init(name: String, type: KeyType, value: String) {
        self.name = name
        self.type = type
        self.value = value
    }
}

/// The three types DynamoDB allows for key attributes.
public enum KeyType: String, Sendable, Equatable, Hashable, Codable {
    case string = "S"
    case number = "N"
    case binary = "B"
}

/// `ApproximateCreationDateTime` as the record wrote it: a JSON number of epoch seconds, or an ISO-8601 string.
public enum EventTime: Sendable, Equatable {
    case epochSeconds(String)
    case iso8601(String)
}

// MARK: - The cursor

private let quote: UInt8 = 0x22
private let backslash: UInt8 = 0x5C
private let colon: UInt8 = 0x3A
private let comma: UInt8 = 0x2C
private let openBrace: UInt8 = 0x7B
private let closeBrace: UInt8 = 0x7D
private let openBracket: UInt8 = 0x5B
private let closeBracket: UInt8 = 0x5D

/// The member names the pipeline reads.
private let knownFields: [(StaticString, Cursor.Field)] = [
    ("eventName", .eventName), ("eventID", .eventID), ("userIdentity", .userIdentity), ("dynamodb", .dynamodb),
    ("type", .type), ("principalId", .principalID),
    ("ApproximateCreationDateTime", .approximateCreationDateTime), ("Keys", .keys),
    ("SequenceNumber", .sequenceNumber), ("OldImage", .oldImage), ("eventSourceARN", .eventSourceARN),
]

/// Which bytes need a closer look inside a string: the quote, the backslash, control characters and the
/// first byte of a multi-byte UTF-8 sequence. Computed inline: a global table would cost a `swift_once`
/// check on every byte of the hot loop.
@inline(__always) private func isStringSpecial(_ byte: UInt8) -> Bool {
    byte < 0x20 || byte == 0x22 || byte == 0x5C || byte >= 0x80
}

private struct Cursor {
    let base: UnsafePointer<UInt8>
    let count: Int
    var index = 0
    /// Open containers, innermost last: true for an object, false for an array.
    var containers: [Bool] = []

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    @inline(__always) func fail(_ reason: RecordError.Reason) -> RecordError {
        RecordError(reason, offset: index)
    }

    @inline(__always) mutating func skipWhitespace() {
        while index < count {
            let byte = base[index]
            if byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 } else { return }
        }
    }

    @inline(__always) mutating func expect(_ byte: UInt8, _ what: String) throws(RecordError) {
        skipWhitespace()
        guard index < count else { throw fail(.truncated) }
        guard base[index] == byte else { throw fail(.unexpected(expected: what, found: base[index])) }
        index += 1
    }

    @inline(__always) func peek() -> UInt8? { index < count ? base[index] : nil }

    // MARK: Record

    mutating func record() throws(RecordError) -> ScannedRecord {
        // A UTF-8 byte-order mark at the very start may be ignored (RFC 8259 §8.1).
        if count >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF { index = 3 }
        skipWhitespace()
        guard index < count else { throw fail(.empty) }
        guard base[index] == openBrace else { throw fail(.notAnObject) }
        index += 1

        var eventName: String?
        var eventID: String?
        var identityType: String?
        var principalID: String?
        var dynamodb: DynamoDBFields?
        var sawUserIdentity = false
        var arnRange: Range<Int>?
        var arnCount = 0

        try members { (cursor: inout Cursor, name: Range<Int>) throws(RecordError) in
            switch cursor.name(name) {
            case .eventName:
                guard eventName == nil else { throw cursor.fail(.duplicateField("eventName")) }
                eventName = try cursor.stringValue(field: "eventName")
            case .eventID:
                guard eventID == nil else { throw cursor.fail(.duplicateField("eventID")) }
                eventID = try cursor.stringValue(field: "eventID")
            case .userIdentity:
                guard !sawUserIdentity else { throw cursor.fail(.duplicateField("userIdentity")) }
                sawUserIdentity = true
                try cursor.userIdentity(type: &identityType, principal: &principalID)
            case .dynamodb:
                guard dynamodb == nil else { throw cursor.fail(.duplicateField("dynamodb")) }
                dynamodb = try cursor.dynamodbObject()
            case .eventSourceARN:
                let start = cursor.index
                let isString = cursor.peek() == quote
                try cursor.skipValue()
                arnCount += 1
                if isString { arnRange = start..<cursor.index }
            default:
                try cursor.skipValue()
            }
        }
        skipWhitespace()
        guard index == count else { throw fail(.trailingData) }

        guard let eventName else { throw RecordError(.missingField("eventName"), offset: 0) }
        guard let event = EventName(rawValue: eventName) else {
            throw RecordError(.unknownEventName(eventName), offset: 0)
        }
        guard let dynamodb else { throw RecordError(.missingField("dynamodb"), offset: 0) }
        return ScannedRecord(
            eventName: event, eventID: eventID, identityType: identityType, principalID: principalID,
            eventTime: dynamodb.eventTime, keys: dynamodb.keys, hasKeys: dynamodb.keysRange != nil,
            sequenceNumber: dynamodb.sequenceNumber, hasOldImage: dynamodb.oldImageRange != nil,
            oldImageRange: dynamodb.oldImageRange, keysRange: dynamodb.keysRange,
            // Named twice, the table is ambiguous: taken as unknown.
            eventSourceARNRange: arnCount == 1 ? arnRange : nil, eventSourceARNRepeated: arnCount > 1)
    }

    struct DynamoDBFields {
        var eventTime: EventTime?
        var keys: [KeyAttribute] = []
        var keysRange: Range<Int>?
        var sequenceNumber: String?
        var oldImageRange: Range<Int>?
    }

    enum Field {
        case eventName, eventID, userIdentity, dynamodb
        case type, principalID
        case approximateCreationDateTime, keys, sequenceNumber, oldImage
        case eventSourceARN
        case other
    }

    /// Recognises the member names the pipeline reads. Names with escapes are never ours.
    func name(_ range: Range<Int>) -> Field {
        let length = range.count
        let start = base + range.lowerBound
        if memchr(start, Int32(backslash), length) != nil {
            // An escaped name means the same as its decoded text; spell it out and match that — once: a
            // backslash in the decoded text is a character of the name, not another escape.
            guard let decoded = try? decodeString(range) else { return .other }
            let bytes = Array(decoded.utf8)
            return bytes.withUnsafeBufferPointer { buffer in
                buffer.isEmpty ? .other : Self.field(named: buffer.baseAddress!, length: buffer.count)
            }
        }
        return Self.field(named: start, length: length)
    }

    /// The field whose name is exactly these bytes.
    static func field(named start: UnsafePointer<UInt8>, length: Int) -> Field {
        for (literal, field) in knownFields where literal.utf8CodeUnitCount == length {
            if memcmp(start, literal.utf8Start, length) == 0 { return field }
        }
        return .other
    }

    /// Walks the members of an object whose `{` has been consumed, calling `body` with the cursor on
    /// each member's value and the byte range of its raw (still escaped) name.
    mutating func members(
        _ body: (inout Cursor, Range<Int>) throws(RecordError) -> Void
    ) throws(RecordError) {
        skipWhitespace()
        if peek() == closeBrace {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard index < count else { throw fail(.truncated) }
            guard base[index] == quote else { throw fail(.unexpected(expected: "a member name", found: base[index])) }
            let name = try rawString()
            try expect(colon, "':'")
            skipWhitespace()
            try body(&self, name)
            skipWhitespace()
            guard index < count else { throw fail(.truncated) }
            let byte = base[index]
            index += 1
            if byte == comma { continue }
            if byte == closeBrace { return }
            index -= 1
            throw fail(.unexpected(expected: "',' or '}'", found: byte))
        }
    }

    mutating func userIdentity(type: inout String?, principal: inout String?) throws(RecordError) {
        skipWhitespace()
        if peek() == UInt8(ascii: "n") {
            try literal("null")
            return
        }
        try objectOrWrongType(field: "userIdentity", expected: "an object")
        var sawType = false
        var sawPrincipal = false
        try members { (cursor: inout Cursor, name: Range<Int>) throws(RecordError) in
            switch cursor.name(name) {
            case .type:
                guard !sawType else { throw cursor.fail(.duplicateField("userIdentity.type")) }
                sawType = true
                type = try cursor.stringValue(field: "userIdentity.type")
            case .principalID:
                guard !sawPrincipal else { throw cursor.fail(.duplicateField("userIdentity.principalId")) }
                sawPrincipal = true
                principal = try cursor.stringValue(field: "userIdentity.principalId")
            default:
                try cursor.skipValue()
            }
        }
    }

    mutating func dynamodbObject() throws(RecordError) -> DynamoDBFields {
        try objectOrWrongType(field: "dynamodb", expected: "an object")
        var fields = DynamoDBFields()
        var sawTime = false
        var sawSequence = false
        var sawOldImage = false
        try members { (cursor: inout Cursor, name: Range<Int>) throws(RecordError) in
            switch cursor.name(name) {
            case .approximateCreationDateTime:
                guard !sawTime else { throw cursor.fail(.duplicateField("dynamodb.ApproximateCreationDateTime")) }
                sawTime = true
                fields.eventTime = try cursor.eventTime()
            case .keys:
                guard fields.keysRange == nil else { throw cursor.fail(.duplicateField("dynamodb.Keys")) }
                let start = cursor.index
                fields.keys = try cursor.keys()
                fields.keysRange = start..<cursor.index
            case .sequenceNumber:
                guard !sawSequence else { throw cursor.fail(.duplicateField("dynamodb.SequenceNumber")) }
                sawSequence = true
                fields.sequenceNumber = try cursor.stringValue(field: "dynamodb.SequenceNumber")
            case .oldImage:
                guard !sawOldImage else { throw cursor.fail(.duplicateField("dynamodb.OldImage")) }
                sawOldImage = true
                let start = cursor.index
                guard cursor.peek() != nil else { throw cursor.fail(.truncated) }
                if cursor.peek() == UInt8(ascii: "n") {
                    try cursor.literal("null")
                } else {
                    guard cursor.peek() == openBrace else {
                        let at = cursor.index
                        try cursor.skipValue()
                        throw RecordError(.wrongType(field: "dynamodb.OldImage", expected: "an object"), offset: at)
                    }
                    try cursor.skipValue()
                    fields.oldImageRange = start..<cursor.index
                }
            default:
                try cursor.skipValue()
            }
        }
        return fields
    }

    mutating func eventTime() throws(RecordError) -> EventTime? {
        guard let byte = peek() else { throw fail(.truncated) }
        if byte == quote {
            return .iso8601(try stringValue(field: "dynamodb.ApproximateCreationDateTime"))
        }
        if byte == UInt8(ascii: "n") {
            try literal("null")
            return nil
        }
        guard byte == UInt8(ascii: "-") || isDigit(byte) else {
            let at = index
            try skipValue()
            throw RecordError(.wrongType(field: "dynamodb.ApproximateCreationDateTime", expected: "epoch seconds or an ISO-8601 string"), offset: at)
        }
        let start = index
        try number()
        return .epochSeconds(String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self))
    }

    /// `dynamodb.Keys`: an object of attribute name → `{"S"|"N"|"B": "value"}`.
    mutating func keys() throws(RecordError) -> [KeyAttribute] {
        try objectOrWrongType(field: "dynamodb.Keys", expected: "an object")
        var result: [KeyAttribute] = []
        try members { (cursor: inout Cursor, name: Range<Int>) throws(RecordError) in
            let attribute = try cursor.decodeString(name)
            if result.contains(where: { $0.name == attribute }) {
                throw cursor.fail(.duplicateField("dynamodb.Keys.\(attribute)"))
            }
            // A well-formed value that is not an object is of the wrong type, not malformed JSON.
            try cursor.objectOrWrongType(field: "dynamodb.Keys.\(attribute)", expected: "an attribute value object such as {\"S\": …}")
            var found: KeyAttribute?
            try cursor.members { (inner: inout Cursor, typeName: Range<Int>) throws(RecordError) in
                let tag = try inner.decodeString(typeName)
                guard found == nil else { throw inner.fail(.badKey(attribute, "it has more than one type")) }
                guard let type = KeyType(rawValue: tag) else {
                    throw inner.fail(.badKey(attribute, "type \(tag) is not allowed for a key (S, N or B)"))
                }
                let value = try inner.stringValue(field: "Keys.\(attribute).\(tag)")
                if type == .number && !isDynamoDBNumber(value) {
                    throw inner.fail(.badKey(attribute, "N value \"\(value.prefix(64))\" is not a number"))
                }
                found = KeyAttribute(name: attribute, type: type, value: value)
            }
            guard let found else { throw cursor.fail(.badKey(attribute, "it has no value")) }
            result.append(found)
        }
        return result
    }

    /// Consumes `{`; a well-formed value of another type is a wrong-type error (after checking it is well-formed).
    mutating func objectOrWrongType(field: String, expected: String) throws(RecordError) {
        skipWhitespace()
        guard let byte = peek() else { throw fail(.truncated) }
        guard byte == openBrace else {
            let at = index
            try skipValue()
            throw RecordError(.wrongType(field: field, expected: expected), offset: at)
        }
        index += 1
    }

    // MARK: Values

    mutating func literal(_ text: StaticString) throws(RecordError) {
        let length = text.utf8CodeUnitCount
        guard index + length <= count else { throw fail(.truncated) }
        guard memcmp(base + index, text.utf8Start, length) == 0 else { throw fail(.badLiteral) }
        index += length
    }

    /// A JSON string value, decoded.
    mutating func stringValue(field: String) throws(RecordError) -> String {
        skipWhitespace()
        guard index < count else { throw fail(.truncated) }
        guard base[index] == quote else {
            // Well-formed JSON of another type is a wrong-type error; broken JSON is reported as such.
            let at = index
            try skipValue()
            throw RecordError(.wrongType(field: field, expected: "a string"), offset: at)
        }
        return try decodeString(rawString())
    }

    /// Consumes a string starting at its opening quote; returns the range of its contents (escapes kept).
    /// Validates escapes, control characters and UTF-8.
    @inline(__always) mutating func rawString() throws(RecordError) -> Range<Int> {
        index += 1
        let start = index
        while true {
            // Fast path: ordinary ASCII.
            while index < count && !isStringSpecial(base[index]) { index += 1 }
            guard index < count else { throw fail(.truncated) }
            let byte = base[index]
            if byte == quote {
                let range = start..<index
                index += 1
                return range
            } else if byte == backslash {
                try escape()
            } else if byte < 0x20 {
                throw fail(.controlCharacterInString(byte))
            } else {
                try utf8Sequence()
            }
        }
    }

    @inline(__always) mutating func escape() throws(RecordError) {
        guard index + 1 < count else { throw fail(.truncated) }
        switch base[index + 1] {
        case quote, backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            guard index + 6 <= count else { throw fail(.truncated) }
            for offset in 2..<6 where hexValue(base[index + offset]) == nil { throw fail(.badEscape) }
            index += 6
        default:
            throw fail(.badEscape)
        }
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
    @inline(__always) mutating func utf8Sequence() throws(RecordError) {
        let lead = base[index]
        var length = 0
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: throw fail(.invalidUTF8)
        }
        guard index + length <= count else {
            // Cut inside a character: truncated, if what is there is a valid start.
            let present = count - index
            if present >= 2 && !(base[index + 1] >= lower && base[index + 1] <= upper) { throw fail(.invalidUTF8) }
            for offset in 2..<max(2, present) where base[index + offset] & 0xC0 != 0x80 { throw fail(.invalidUTF8) }
            throw fail(.truncated)
        }
        let second = base[index + 1]
        guard second >= lower && second <= upper else { throw fail(.invalidUTF8) }
        for offset in 2..<length where base[index + offset] & 0xC0 != 0x80 { throw fail(.invalidUTF8) }
        index += length
    }

    /// Decodes the contents of a string (as returned by `rawString`) into a Swift string.
    func decodeString(_ range: Range<Int>) throws(RecordError) -> String {
        let raw = UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
        guard raw.contains(backslash) else { return String(decoding: raw, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var i = 0
        while i < raw.count {
            let byte = raw[i]
            guard byte == backslash else {
                bytes.append(byte)
                i += 1
                continue
            }
            let kind = raw[i + 1]
            i += 2
            switch kind {
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(raw, i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= raw.count, raw[i] == backslash, raw[i + 1] == UInt8(ascii: "u") else {
                        throw RecordError(.unpairedSurrogate, offset: range.lowerBound + i)
                    }
                    let low = hex4(raw, i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw RecordError(.unpairedSurrogate, offset: range.lowerBound + i)
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw RecordError(.unpairedSurrogate, offset: range.lowerBound + i)
                }
                bytes.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default: bytes.append(kind)  // " \ /
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 { value = value << 4 | UInt32(hexValue(raw[at + offset]) ?? 0) }
        return value
    }

    /// A JSON number (RFC 8259 grammar).
    @inline(__always) mutating func number() throws(RecordError) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek() else { throw fail(.truncated) }
        if first == UInt8(ascii: "0") {
            index += 1
        } else if isDigit(first) {
            while let byte = peek(), isDigit(byte) { index += 1 }
        } else {
            throw fail(.badNumber)
        }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let byte = peek(), isDigit(byte) else { throw fail(.badNumber) }
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
        if let byte = peek(), byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            index += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { index += 1 }
            guard let digit = peek(), isDigit(digit) else { throw fail(.badNumber) }
            while let byte = peek(), isDigit(byte) { index += 1 }
        }
    }

    /// Skips one value of any shape, validating it, without recursion.
    mutating func skipValue() throws(RecordError) {
        let floor = containers.count
        var expectingValue = true
        while true {
            if expectingValue {
                skipWhitespace()
                guard index < count else { throw fail(.truncated) }
                let byte = base[index]
                switch byte {
                case openBrace:
                    index += 1
                    skipWhitespace()
                    if peek() == closeBrace {
                        index += 1
                        expectingValue = false
                    } else {
                        guard containers.count - floor < RecordScanner.maximumDepth else { throw fail(.tooDeep) }
                        containers.append(true)
                        try memberName()
                    }
                case openBracket:
                    index += 1
                    skipWhitespace()
                    if peek() == closeBracket {
                        index += 1
                        expectingValue = false
                    } else {
                        guard containers.count - floor < RecordScanner.maximumDepth else { throw fail(.tooDeep) }
                        containers.append(false)
                    }
                case quote:
                    _ = try rawString()
                    expectingValue = false
                case UInt8(ascii: "t"): try literal("true"); expectingValue = false
                case UInt8(ascii: "f"): try literal("false"); expectingValue = false
                case UInt8(ascii: "n"): try literal("null"); expectingValue = false
                default:
                    guard byte == UInt8(ascii: "-") || isDigit(byte) else {
                        throw fail(.unexpected(expected: "a value", found: byte))
                    }
                    try number()
                    expectingValue = false
                }
            } else {
                guard containers.count > floor else { return }
                skipWhitespace()
                guard index < count else { throw fail(.truncated) }
                let byte = base[index]
                let inObject = containers[containers.count - 1]
                index += 1
                if byte == comma {
                    if inObject { try memberName() }
                    expectingValue = true
                } else if byte == closeBrace && inObject {
                    containers.removeLast()
                } else if byte == closeBracket && !inObject {
                    containers.removeLast()
                } else {
                    index -= 1
                    throw fail(.unexpected(expected: inObject ? "',' or '}'" : "',' or ']'", found: byte))
                }
            }
        }
    }

    /// A member name and its colon, inside an object being skipped.
    @inline(__always) mutating func memberName() throws(RecordError) {
        skipWhitespace()
        guard index < count else { throw fail(.truncated) }
        guard base[index] == quote else { throw fail(.unexpected(expected: "a member name", found: base[index])) }
        _ = try rawString()
        try expect(colon, "':'")
    }
}

@inline(__always) private func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

@inline(__always) private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}

/// A DynamoDB number: an optional sign, digits with an optional fraction, an optional exponent;
/// at most 38 significant digits (DynamoDB's precision).
public func isDynamoDBNumber(_ text: String) -> Bool {
    var bytes = Array(text.utf8)[...]
    if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
    var digits = 0
    var sawPoint = false
    // Significant digits run from the first non-zero digit to the last one.
    var first = -1
    var last = -1
    while let byte = bytes.first, isDigit(byte) || (byte == UInt8(ascii: ".") && !sawPoint) {
        if byte == UInt8(ascii: ".") {
            sawPoint = true
        } else {
            if byte != UInt8(ascii: "0") {
                if first < 0 { first = digits }
                last = digits
            }
            digits += 1
        }
        bytes = bytes.dropFirst()
    }
    let significant = first < 0 ? 0 : last - first + 1
    guard digits > 0, significant <= 38 else { return false }
    if let byte = bytes.first, byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
        bytes = bytes.dropFirst()
        if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        guard !bytes.isEmpty, bytes.allSatisfy(isDigit) else { return false }
        return true
    }
    return bytes.isEmpty
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
