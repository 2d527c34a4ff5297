import JSONToolkit

/// Where a rule reads a value: `OldImage.<attribute>.<type>` or `Keys.<attribute>.<type>` (a top-level attribute;
/// its name may hold dots: `OldImage.a.b.S` is attribute `a.b`).
public struct AttributePath: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Image: String, Sendable {
        case oldImage = "OldImage"
        case keys = "Keys"
    }

    /// The DynamoDB types a path may name.
    public enum ValueType: String, Sendable {
        case s = "S"
        case n = "N"
        case bool = "BOOL"
    }

    public var image: Image
    public var attribute: String
    public var type: ValueType

    /// Reads `OldImage.status.S`.
    /// - Parameter types: the types allowed where the path stands.
    public init(_ text: String, types: [ValueType]) throws(RuleTextError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 3, let image = Image(rawValue: parts[0]) else {
            throw RuleTextError("'\(text)' is not a value path; write OldImage.<attribute>.<type> or Keys.<attribute>.<type>, e.g. OldImage.key.S")
        }
        let attribute = parts[1..<(parts.count - 1)].joined(separator: ".")
        guard !attribute.isEmpty else { throw RuleTextError("'\(text)' names no attribute") }
        let typeText = parts[parts.count - 1]
        guard let type = ValueType(rawValue: typeText), types.contains(type) else {
            let allowed = types.map(\.rawValue).joined(separator: " or ")
            if ["B", "M", "L", "SS", "NS", "BS", "NULL", "BOOL"].contains(typeText) {
                throw RuleTextError("'\(text)': a value of type \(typeText) cannot be used here (only \(allowed))")
            }
            throw RuleTextError("'\(text)' ends in '\(typeText)', not a type; write .\(types[0].rawValue) (or \(allowed))")
        }
        self.image = image
        self.attribute = attribute
        self.type = type
    }

    public var description: String { "\(image.rawValue).\(attribute).\(type.rawValue)" }
}

/// Text in a rule (a template, a condition, a path) that cannot be read.
public struct RuleTextError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The parts of a deleted record that rules read: its `Keys` and its `OldImage`, decoded once (only for records
/// of tables that have rules).
public struct RecordImage: Sendable {
    let keys: [(String, JSONValue)]
    let oldImage: [(String, JSONValue)]

    /// Decodes `Keys` and `OldImage` from the record's bytes, at the ranges the scanner found.
    public init(record: UnsafeRawBufferPointer, keysRange: Range<Int>?, oldImageRange: Range<Int>?) throws(RuleTextError) {
        func members(_ range: Range<Int>?) throws(RuleTextError) -> [(String, JSONValue)] {
            guard let range else { return [] }
            let value: JSONValue
            do {
                value = try JSONValue.parse(Array(UnsafeRawBufferPointer(rebasing: record[range])))
            } catch {
                throw RuleTextError("the record's image cannot be read: \(error)")
            }
            return value.objectMembers ?? []
        }
        keys = try members(keysRange)
        oldImage = try members(oldImageRange)
    }

    /// An image from decoded members (tests, restore).
    public init(keys: [(String, JSONValue)], oldImage: [(String, JSONValue)]) {
        self.keys = keys
        self.oldImage = oldImage
    }

    /// The image an erasure action's templates are filled from: the subject where `{subject}` reads it.
    public static func subject(_ subject: String) -> RecordImage {
        RecordImage(keys: [("subject", .object([("S", .string(subject))]))], oldImage: [])
    }

    /// What a path finds in the record.
    public enum Lookup: Sendable, Equatable {
        case text(String)
        case bool(Bool)
        /// The attribute is not there.
        case missing
        /// The attribute is there but cannot be used as the path says (another type, twice, malformed).
        case unusable(String)
    }

    /// The value `path` names in the image object spanning `range` of `record` (its `Keys` or `OldImage`), read
    /// where it stands: what ``value(_:)`` finds in the image decoded, without decoding the image.
    public static func value(_ path: AttributePath, in record: UnsafeRawBufferPointer, image range: Range<Int>?) -> Lookup {
        guard let range else { return .missing }
        var found: Range<Int>?
        var twice = false
        do {
            try RawJSON.eachMember(in: record, object: range) { key, value in
                guard key.isEqual(to: path.attribute) else { return }
                if found != nil { twice = true } else { found = value }
            }
        } catch {
            return .unusable("the record's image cannot be read: \(error)")
        }
        guard let typed = found else { return .missing }
        if twice { return .unusable("\(path.image.rawValue).\(path.attribute) appears twice in the record") }
        var members = 0
        var tagged: (matches: Bool, value: Range<Int>)?
        do {
            try RawJSON.eachMember(in: record, object: typed) { key, value in
                members += 1
                tagged = (key.isEqual(to: path.type.rawValue), value)
            }
        } catch {
            members = 0
        }
        guard members == 1, let tagged else {
            return .unusable("\(path.image.rawValue).\(path.attribute) is not a DynamoDB value ({\"S\": …})")
        }
        guard tagged.matches else {
            // Rare: the message names the type found, as the decoded lookup does.
            return Self.value(path, typed: (try? JSONValue.parse(Array(UnsafeRawBufferPointer(rebasing: record[typed])))) ?? .null)
        }
        switch path.type {
        case .s:
            if let text = RawJSON.string(in: record, tagged.value) { return .text(text) }
        case .n:
            if let text = RawJSON.string(in: record, tagged.value), isDynamoDBNumber(text) { return .text(text) }
        case .bool:
            if let flag = RawJSON.bool(in: record, tagged.value) { return .bool(flag) }
        }
        return .unusable("\(path) does not hold a \(path.type.rawValue) value")
    }

    /// The value `path` names.
    public func value(_ path: AttributePath) -> Lookup {
        let members = path.image == .keys ? keys : oldImage
        let found = members.filter { $0.0 == path.attribute }
        guard let (_, typed) = found.first else { return .missing }
        if found.count > 1 { return .unusable("\(path.image.rawValue).\(path.attribute) appears twice in the record") }
        return Self.value(path, typed: typed)
    }

    /// What `path` finds in its attribute's typed value (`{"S": …}`).
    static func value(_ path: AttributePath, typed: JSONValue) -> Lookup {
        guard let tagged = typed.objectMembers, tagged.count == 1, let (tag, value) = tagged.first else {
            return .unusable("\(path.image.rawValue).\(path.attribute) is not a DynamoDB value ({\"S\": …})")
        }
        guard tag == path.type.rawValue else {
            return .unusable("\(path.image.rawValue).\(path.attribute) is of type \(tag), not \(path.type.rawValue)")
        }
        switch (path.type, value) {
        case (.s, .string(let text)): return .text(text)
        case (.n, .string(let text)) where isDynamoDBNumber(text): return .text(text)
        case (.bool, .bool(let flag)): return .bool(flag)
        default: return .unusable("\(path) does not hold a \(path.type.rawValue) value")
        }
    }
}
