/// The JSON grammar (RFC 8259), written once: `JSONValue.parse` builds a tree with it and `RawJSON` finds byte
/// ranges with it. Strings are checked as they are passed over (escapes, control characters) and decoded only
/// when asked (surrogate pairs, UTF-8), so skipping a value costs no allocation.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    /// One past the last byte to read.
    let end: Int
    /// The next byte to read.
    var index: Int

    /// Deeper nesting is refused: no JSON this package reads nests anywhere near this, and recursion must stay
    /// within the stack.
    static let maximumDepth = 512

    init(_ bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count, "range outside the buffer")
        self.bytes = bytes
        self.index = range.lowerBound
        self.end = range.upperBound
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(message: message, offset: offset ?? index)
    }

    @inline(__always) mutating func skipWhitespace() {
        while index < end {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Whitespace, then the end of the range.
    mutating func finish() throws(JSONParseError) {
        skipWhitespace()
        guard index == end else { throw error("data after the JSON value") }
    }

    /// Skips whitespace and returns the first byte of the value there, checking the nesting depth.
    mutating func valueStart(depth: Int) throws(JSONParseError) -> UInt8 {
        guard depth < Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
        skipWhitespace()
        guard index < end else { throw error("unexpected end") }
        return bytes[index]
    }

    // MARK: Containers

    /// Reads the object starting here (at `{`). For each member, `member` gets the range of the key's raw
    /// contents (escapes kept) with the scanner at the value, and must read the value.
    mutating func object(_ member: (inout JSONScanner, Range<Int>) throws(JSONParseError) -> Void) throws(JSONParseError) {
        if isEmpty(closing: UInt8(ascii: "}")) { return }
        while true {
            skipWhitespace()
            let key = try string()
            skipWhitespace()
            guard index < end, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            try member(&self, key)
            guard try next(closing: UInt8(ascii: "}")) else { return }
        }
    }

    /// Reads the array starting here (at `[`); `element` must read each element.
    mutating func array(_ element: (inout JSONScanner) throws(JSONParseError) -> Void) throws(JSONParseError) {
        if isEmpty(closing: UInt8(ascii: "]")) { return }
        while true {
            try element(&self)
            guard try next(closing: UInt8(ascii: "]")) else { return }
        }
    }

    /// Steps past the opening bracket here; true when the closing one follows (and steps past it too).
    private mutating func isEmpty(closing: UInt8) -> Bool {
        index += 1
        skipWhitespace()
        guard index < end, bytes[index] == closing else { return false }
        index += 1
        return true
    }

    /// After a member or element: true at `,` (another follows), false at the closing bracket.
    private mutating func next(closing: UInt8) throws(JSONParseError) -> Bool {
        skipWhitespace()
        guard index < end else { throw error("unexpected end") }
        let c = bytes[index]
        index += 1
        if c == UInt8(ascii: ",") { return true }
        if c == closing { return false }
        throw error("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
    }

    /// Passes over one value, checking its grammar.
    mutating func skipValue(depth: Int) throws(JSONParseError) {
        switch try valueStart(depth: depth) {
        case UInt8(ascii: "{"): try object { (s, _) throws(JSONParseError) in try s.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["): try array { (s) throws(JSONParseError) in try s.skipValue(depth: depth + 1) }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try number()
        }
    }

    // MARK: Scalars

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= end, (0..<count).allSatisfy({ bytes[index + $0] == word.utf8Start[$0] }) else {
            throw error("expected \(word)")
        }
        index += count
    }

    /// The range of a number's text: `-`? int frac? exp?, without leading zeros.
    mutating func number() throws(JSONParseError) -> Range<Int> {
        let start = index
        if index < end, bytes[index] == UInt8(ascii: "-") { index += 1 }
        let digitsStart = index
        skipDigits()
        guard index > digitsStart else { throw error("expected a value") }
        if bytes[digitsStart] == UInt8(ascii: "0") && index - digitsStart > 1 { throw error("leading zero in a number") }
        if index < end, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fraction = index
            skipDigits()
            guard index > fraction else { throw error("digits expected after '.'") }
        }
        if index < end, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < end, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let exponent = index
            skipDigits()
            guard index > exponent else { throw error("digits expected in the exponent") }
        }
        return start..<index
    }

    @inline(__always) private mutating func skipDigits() {
        while index < end, bytes[index] &- UInt8(ascii: "0") < 10 { index += 1 }
    }

    /// Passes over a string starting at its opening quote; returns the range of its contents (escapes kept).
    /// Checks escapes and control characters; `decodeString` checks the rest.
    mutating func string() throws(JSONParseError) -> Range<Int> {
        guard index < end, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string") }
        index += 1
        let start = index
        while index < end {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                return start..<(index - 1)
            }
            if c == UInt8(ascii: "\\") {
                try escape()
            } else if c < 0x20 {
                throw error("control character in a string")
            } else {
                index += 1
            }
        }
        throw error("unterminated string")
    }

    /// Passes over one escape (at its backslash).
    private mutating func escape() throws(JSONParseError) {
        guard index + 1 < end else { throw error("unterminated escape") }
        switch bytes[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
            UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 2
        case UInt8(ascii: "u"):
            guard index + 6 <= end else { throw error("short \\u escape") }
            guard hex4(at: index + 2) != nil else { throw error("bad \\u escape") }
            index += 6
        default:
            index += 1
            throw error("bad escape")
        }
    }

    /// The four hex digits at `offset`, or nil.
    private func hex4(at offset: Int) -> UInt32? {
        var value: UInt32 = 0
        for c in bytes[offset..<offset + 4] {
            let digit: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// The text of a string whose raw contents `string()` returned: escapes decoded, surrogate escapes paired,
    /// UTF-8 checked.
    func decodeString(_ contents: Range<Int>) throws(JSONParseError) -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[contents])
        guard raw.contains(UInt8(ascii: "\\")) else {
            guard let text = String(validating: raw, as: UTF8.self) else { throw error("invalid UTF-8 in a string", at: contents.lowerBound) }
            return text
        }
        var out: [UInt8] = []
        out.reserveCapacity(contents.count)
        var i = contents.lowerBound
        while i < contents.upperBound {
            let c = bytes[i]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                i += 1
                continue
            }
            let e = bytes[i + 1]
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = hex4(at: i + 2)!
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 12 <= contents.upperBound, bytes[i + 6] == UInt8(ascii: "\\"), bytes[i + 7] == UInt8(ascii: "u"),
                        let low = hex4(at: i + 8), (0xDC00...0xDFFF).contains(low)
                    else { throw error("unpaired surrogate", at: i) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw error("unpaired surrogate", at: i)
                }
                appendUTF8(Unicode.Scalar(scalar)!, to: &out)
                i += 4
            default: out.append(e)  // " \ /
            }
            i += 2
        }
        guard let text = String(validating: out, as: UTF8.self) else { throw error("invalid UTF-8 in a string", at: contents.lowerBound) }
        return text
    }
}

private func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
    UTF8.encode(scalar) { out.append($0) }
}
