/// Finds values inside JSON bytes without decoding them, so DynamoDB items (whose numbers may have 38 digits)
/// travel byte-exact, and writes JSON strings.
public enum RawJSON {
    /// The members of the object spanning `range` of `bytes` (the whole buffer by default), with each value's byte range.
    public static func objectMembers(_ bytes: [UInt8], in range: Range<Int>? = nil) throws -> [(key: String, value: Range<Int>)] {
        var scanner = Scanner(bytes: bytes, range: range ?? 0..<bytes.count)
        return try scanner.topLevelObject()
    }

    /// The byte range of the value of member `name` of the object spanning `range` (the whole buffer by default); nil when absent.
    public static func member(_ name: String, of bytes: [UInt8], in range: Range<Int>? = nil) throws -> Range<Int>? {
        try objectMembers(bytes, in: range).first { $0.key == name }?.value
    }

    /// The byte ranges of the elements of the array spanning `range` of `bytes`.
    public static func arrayElements(_ bytes: [UInt8], in range: Range<Int>) throws -> [Range<Int>] {
        var scanner = Scanner(bytes: bytes, range: range)
        return try scanner.topLevelArray()
    }

    /// Decodes the JSON string spanning `range` (quotes included); throws if it is not a string.
    public static func string(_ bytes: [UInt8], in range: Range<Int>) throws -> String {
        var scanner = Scanner(bytes: bytes, range: range)
        scanner.skipWhitespace()
        let value = try scanner.string()
        scanner.skipWhitespace()
        guard scanner.index == range.upperBound else { throw RawJSONError(offset: scanner.index, reason: "trailing bytes after a string") }
        return value
    }

    /// Checks that `bytes` hold exactly one JSON object (structure only: strings, nesting and separators).
    public static func validateObject(_ bytes: [UInt8]) throws {
        _ = try objectMembers(bytes)
    }

    /// `s` as a JSON string literal, quotes included.
    public static func quoted(_ s: String) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(s.utf8.count + 2)
        let hex = Array("0123456789abcdef".utf8)
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xf)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return out
    }

    private struct Scanner {
        let bytes: [UInt8]
        let end: Int
        var index: Int

        init(bytes: [UInt8], range: Range<Int>) {
            self.bytes = bytes
            self.index = range.lowerBound
            self.end = range.upperBound
        }

        mutating func skipWhitespace() {
            while index < end, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        func fail(_ reason: String) -> RawJSONError { RawJSONError(offset: index, reason: reason) }

        mutating func expect(_ byte: UInt8) throws {
            guard index < end, bytes[index] == byte else { throw fail("expected '\(Character(Unicode.Scalar(byte)))'") }
            index += 1
        }

        mutating func topLevelObject() throws -> [(key: String, value: Range<Int>)] {
            skipWhitespace()
            let members = try object(collect: true)
            skipWhitespace()
            guard index == end else { throw fail("trailing bytes after the object") }
            return members
        }

        mutating func topLevelArray() throws -> [Range<Int>] {
            skipWhitespace()
            let elements = try array(collect: true)
            skipWhitespace()
            guard index == end else { throw fail("trailing bytes after the array") }
            return elements
        }

        mutating func object(collect: Bool) throws -> [(key: String, value: Range<Int>)] {
            try expect(UInt8(ascii: "{"))
            var members: [(key: String, value: Range<Int>)] = []
            skipWhitespace()
            if index < end, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return members
            }
            while true {
                skipWhitespace()
                let key = collect ? try string() : try skipString()
                skipWhitespace()
                try expect(UInt8(ascii: ":"))
                skipWhitespace()
                let start = index
                try value()
                if collect { members.append((key, start..<index)) }
                skipWhitespace()
                guard index < end else { throw fail("unterminated object") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else {
                    try expect(UInt8(ascii: "}"))
                    return members
                }
            }
        }

        mutating func array(collect: Bool) throws -> [Range<Int>] {
            try expect(UInt8(ascii: "["))
            var elements: [Range<Int>] = []
            skipWhitespace()
            if index < end, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return elements
            }
            while true {
                skipWhitespace()
                let start = index
                try value()
                if collect { elements.append(start..<index) }
                skipWhitespace()
                guard index < end else { throw fail("unterminated array") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                } else {
                    try expect(UInt8(ascii: "]"))
                    return elements
                }
            }
        }

        mutating func value() throws {
            guard index < end else { throw fail("expected a value") }
            switch bytes[index] {
            case UInt8(ascii: "{"): _ = try object(collect: false)
            case UInt8(ascii: "["): _ = try array(collect: false)
            case UInt8(ascii: "\""): _ = try skipString()
            default:
                let start = index
                while index < end {
                    let b = bytes[index]
                    let isScalar = (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z"))
                        || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: "E")
                    guard isScalar else { break }
                    index += 1
                }
                guard index > start else { throw fail("unexpected byte") }
            }
        }

        mutating func skipString() throws -> String {
            try expect(UInt8(ascii: "\""))
            while index < end {
                switch bytes[index] {
                case UInt8(ascii: "\\"): index += 2
                case UInt8(ascii: "\""):
                    index += 1
                    return ""
                default: index += 1
                }
            }
            throw fail("unterminated string")
        }

        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            var out: [UInt8] = []
            var pendingHigh: UInt32?
            while index < end {
                let b = bytes[index]
                index += 1
                if b == UInt8(ascii: "\"") {
                    if pendingHigh != nil { out += [0xEF, 0xBF, 0xBD] }
                    return String(decoding: out, as: UTF8.self)
                }
                guard b == UInt8(ascii: "\\") else {
                    if pendingHigh != nil { out += [0xEF, 0xBF, 0xBD]; pendingHigh = nil }
                    out.append(b)
                    continue
                }
                guard index < end else { break }
                let e = bytes[index]
                index += 1
                if e == UInt8(ascii: "u") {
                    guard index + 4 <= end, let code = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16) else {
                        throw fail("bad \\u escape")
                    }
                    index += 4
                    var scalar: Unicode.Scalar?
                    if (0xD800...0xDBFF).contains(code) {
                        if pendingHigh != nil { out += [0xEF, 0xBF, 0xBD] }
                        pendingHigh = code
                        continue
                    } else if (0xDC00...0xDFFF).contains(code), let high = pendingHigh {
                        scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00))
                        pendingHigh = nil
                    } else {
                        if pendingHigh != nil { out += [0xEF, 0xBF, 0xBD]; pendingHigh = nil }
                        scalar = Unicode.Scalar(code)
                    }
                    out += Array(String(Character(scalar ?? "\u{FFFD}")).utf8)
                    continue
                }
                if pendingHigh != nil { out += [0xEF, 0xBF, 0xBD]; pendingHigh = nil }
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                default: throw fail("bad escape")
                }
            }
            throw fail("unterminated string")
        }
    }
}

/// JSON bytes that are not what was expected.
public struct RawJSONError: Error, Sendable, CustomStringConvertible {
    /// The byte offset of the problem.
    public var offset: Int
    /// What is wrong.
    public var reason: String
    public var description: String { "malformed JSON at byte \(offset): \(reason)" }
}
