import Foundation
import JSONToolkit

/// A DynamoDB attribute value (DynamoDB JSON: `{"S": "…"}`, `{"N": "12"}`, …).
/// Numbers stay decimal text, exactly as DynamoDB keeps them (up to 38 digits).
public indirect enum AttributeValue: Sendable, Equatable {
    case s(String)
    case n(String)
    case b([UInt8])
    case bool(Bool)
    case null
    case m([(String, AttributeValue)])
    case l([AttributeValue])
    case ss([String])
    case ns([String])
    case bs([[UInt8]])

    public static func == (lhs: AttributeValue, rhs: AttributeValue) -> Bool {
        switch (lhs, rhs) {
        case (.s(let a), .s(let b)), (.n(let a), .n(let b)): a == b
        case (.b(let a), .b(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        case (.m(let a), .m(let b)):
            a.count == b.count && a.allSatisfy { name, value in b.contains { $0.0 == name && $0.1 == value } }
        case (.l(let a), .l(let b)): a == b
        case (.ss(let a), .ss(let b)), (.ns(let a), .ns(let b)): Set(a) == Set(b)
        case (.bs(let a), .bs(let b)): Set(a) == Set(b)
        default: false
        }
    }

    /// Reads DynamoDB JSON.
    public init(dynamoJSON json: JSONValue, path: String = "") throws {
        guard let members = json.objectMembers, members.count == 1, let (tag, value) = members.first else {
            throw ItemError("\(path.isEmpty ? "value" : path): expected an object with one type, such as {\"S\": \"text\"}")
        }
        func string() throws -> String {
            guard let s = value.stringValue else { throw ItemError("\(path).\(tag): expected a string") }
            return s
        }
        func strings() throws -> [String] {
            guard case .array(let items) = value else { throw ItemError("\(path).\(tag): expected a list") }
            return try items.map {
                guard let s = $0.stringValue else { throw ItemError("\(path).\(tag): expected strings") }
                return s
            }
        }
        func base64(_ text: String) throws -> [UInt8] {
            guard let data = Data(base64Encoded: text) else { throw ItemError("\(path).\(tag): not base64") }
            return Array(data)
        }
        switch tag {
        case "S": self = .s(try string())
        case "N":
            let n = try string()
            guard isDynamoDBNumber(n) else { throw ItemError("\(path).N: \"\(n.prefix(64))\" is not a number") }
            self = .n(n)
        case "B": self = .b(try base64(try string()))
        case "BOOL":
            guard case .bool(let b) = value else { throw ItemError("\(path).BOOL: expected true or false") }
            self = .bool(b)
        case "NULL": self = .null
        case "M":
            guard let inner = value.objectMembers else { throw ItemError("\(path).M: expected an object") }
            self = .m(try inner.map { ($0.0, try AttributeValue(dynamoJSON: $0.1, path: "\(path).\($0.0)")) })
        case "L":
            guard case .array(let items) = value else { throw ItemError("\(path).L: expected a list") }
            self = .l(try items.enumerated().map { try AttributeValue(dynamoJSON: $0.element, path: "\(path)[\($0.offset)]") })
        case "SS": self = .ss(try strings())
        case "NS":
            let ns = try strings()
            for n in ns where !isDynamoDBNumber(n) { throw ItemError("\(path).NS: \"\(n.prefix(64))\" is not a number") }
            self = .ns(ns)
        case "BS": self = .bs(try strings().map(base64))
        default: throw ItemError("\(path): unknown DynamoDB type \(tag)")
        }
    }

    /// DynamoDB JSON.
    public var dynamoJSON: JSONValue {
        switch self {
        case .s(let s): .object([("S", .string(s))])
        case .n(let n): .object([("N", .string(n))])
        case .b(let b): .object([("B", .string(Data(b).base64EncodedString()))])
        case .bool(let b): .object([("BOOL", .bool(b))])
        case .null: .object([("NULL", .bool(true))])
        case .m(let m): .object([("M", .object(m.map { ($0.0, $0.1.dynamoJSON) }))])
        case .l(let l): .object([("L", .array(l.map(\.dynamoJSON)))])
        case .ss(let ss): .object([("SS", .array(ss.map(JSONValue.string)))])
        case .ns(let ns): .object([("NS", .array(ns.map(JSONValue.string)))])
        case .bs(let bs): .object([("BS", .array(bs.map { .string(Data($0).base64EncodedString()) }))])
        }
    }
}

/// A whole item: attribute names and values, in the order the record lists them.
public struct Item: Sendable, Equatable {
    public var attributes: [(String, AttributeValue)]

    public init(_ attributes: [(String, AttributeValue)]) { self.attributes = attributes }

    public static func == (lhs: Item, rhs: Item) -> Bool { AttributeValue.m(lhs.attributes) == .m(rhs.attributes) }

    public subscript(name: String) -> AttributeValue? { attributes.first { $0.0 == name }?.1 }

    /// Reads an item image (`OldImage`) in DynamoDB JSON.
    public init(dynamoJSON json: JSONValue) throws {
        guard let members = json.objectMembers else { throw ItemError("the item is not a JSON object") }
        attributes = try members.map { ($0.0, try AttributeValue(dynamoJSON: $0.1, path: $0.0)) }
    }

    /// The item as DynamoDB JSON (what `aws dynamodb put-item --item` takes).
    public var dynamoJSON: JSONValue { .object(attributes.map { ($0.0, $0.1.dynamoJSON) }) }
}

/// Why an item could not be read.
public struct ItemError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
