/// A JSON document, kept as written: object members in order, numbers as their decimal text
/// (never a Double, so 38-digit DynamoDB numbers survive).
///
/// For the places that need a whole document; code that only needs to find values in large JSON uses
/// `RawJSON`, which gives byte ranges and decodes nothing else.
public indirect enum JSONValue: Sendable, Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.array(let a), .array(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.null, .null): true
        default: false
        }
    }

    /// A whole number.
    public static func integer(_ value: some BinaryInteger) -> JSONValue { .number(String(value)) }

    /// An object of the members that have a value, in the order given.
    public static func object(omittingNil members: KeyValuePairs<String, JSONValue?>) -> JSONValue {
        .object(members.compactMap { key, value in value.map { (key, $0) } })
    }

    /// The member named `key` of an object (the last, if the name is repeated).
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last { $0.0 == key }?.1
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var objectMembers: [(String, JSONValue)]? { if case .object(let m) = self { m } else { nil } }

    // MARK: Reading

    /// Parses a whole document.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> JSONValue in
            var scanner = JSONScanner(buffer, range: 0..<buffer.count)
            let value = try scanner.value(depth: 0)
            try scanner.finish()
            return value
        }
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue { try parse(Array(text.utf8)) }

    // MARK: Writing

    /// Compact JSON text.
    public var serialized: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// Appends compact JSON text.
    public func write(to out: inout String) { write(to: &out, indent: nil, level: 0) }

    /// JSON text with each member and element on a line of its own, indented `indent` spaces a level and `": "`
    /// after each name, as Python's `json.dumps(…, indent=4)` writes it (and so the aws CLI prints); empty objects
    /// and arrays stay `{}` and `[]`. No newline at the end.
    public func formatted(indent: Int) -> String {
        var out = ""
        write(to: &out, indent: indent, level: 0)
        return out
    }

    private func write(to out: inout String, indent: Int?, level: Int) {
        func newline(_ level: Int) {
            guard let indent else { return }
            out += "\n"
            out += String(repeating: " ", count: indent * level)
        }
        switch self {
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                newline(level + 1)
                writeJSONString(key, to: &out)
                out += indent == nil ? ":" : ": "
                value.write(to: &out, indent: indent, level: level + 1)
            }
            if !members.isEmpty { newline(level) }
            out += "}"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                newline(level + 1)
                item.write(to: &out, indent: indent, level: level + 1)
            }
            if !items.isEmpty { newline(level) }
            out += "]"
        case .string(let s): writeJSONString(s, to: &out)
        case .number(let n): out += n
        case .bool(let b): out += b ? "true" : "false"
        case .null: out += "null"
        }
    }
}

extension JSONScanner {
    /// Reads the value here into a tree.
    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        switch try valueStart(depth: depth) {
        case UInt8(ascii: "{"):
            var members: [(String, JSONValue)] = []
            try object { (s, key) throws(JSONParseError) in
                members.append((try s.decodeString(key), try s.value(depth: depth + 1)))
            }
            return .object(members)
        case UInt8(ascii: "["):
            var items: [JSONValue] = []
            try array { (s) throws(JSONParseError) in items.append(try s.value(depth: depth + 1)) }
            return .array(items)
        case UInt8(ascii: "\""): return .string(try decodeString(try string()))
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[try number()]), as: UTF8.self))
        }
    }
}
