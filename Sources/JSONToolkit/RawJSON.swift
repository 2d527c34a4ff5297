/// Finds values inside JSON bytes without decoding them: byte ranges of members and elements, so that values
/// (DynamoDB items, whose numbers may have 38 digits) travel byte-exact and large documents cost no tree.
///
/// Each call checks the grammar of the whole value it is given (the `range`, by default the whole buffer);
/// strings it does not return are checked for escapes and control characters, not decoded.
public enum RawJSON {
    /// The members of the object spanning `range` of `bytes` (the whole buffer by default), with each value's byte range.
    public static func objectMembers(_ bytes: [UInt8], in range: Range<Int>? = nil) throws(JSONParseError) -> [(key: String, value: Range<Int>)] {
        var members: [(key: String, value: Range<Int>)] = []
        try eachMember(of: bytes, in: range) { (key, value) throws(JSONParseError) in members.append((try key(), value)) }
        return members
    }

    /// The byte range of the value of member `name` of the object spanning `range` (the whole buffer by default);
    /// nil when absent, the first when repeated.
    public static func member(_ name: String, of bytes: [UInt8], in range: Range<Int>? = nil) throws(JSONParseError) -> Range<Int>? {
        var found: Range<Int>?
        try eachMember(of: bytes, in: range) { (key, value) throws(JSONParseError) in
            if found == nil, try key() == name { found = value }
        }
        return found
    }

    /// The byte ranges of the elements of the array spanning `range` of `bytes`.
    public static func arrayElements(_ bytes: [UInt8], in range: Range<Int>) throws(JSONParseError) -> [Range<Int>] {
        try scan(bytes, range) { (s) throws(JSONParseError) in
            guard try s.valueStart(depth: 0) == UInt8(ascii: "[") else { throw s.error("expected '['") }
            var elements: [Range<Int>] = []
            try s.array { (s) throws(JSONParseError) in
                s.skipWhitespace()
                let start = s.index
                try s.skipValue(depth: 1)
                elements.append(start..<s.index)
            }
            return elements
        }
    }

    /// Decodes the JSON string spanning `range` (quotes included); throws if it is not a string.
    public static func string(_ bytes: [UInt8], in range: Range<Int>) throws(JSONParseError) -> String {
        try scan(bytes, range) { (s) throws(JSONParseError) in
            s.skipWhitespace()
            return try s.decodeString(try s.string())
        }
    }

    /// Checks that `bytes` hold exactly one JSON object.
    public static func validateObject(_ bytes: [UInt8]) throws(JSONParseError) {
        try eachMember(of: bytes, in: nil) { _, _ in }
    }

    /// Calls `body` for each member of the object spanning `range`, with a function that decodes the key and the
    /// value's byte range.
    private static func eachMember(
        of bytes: [UInt8], in range: Range<Int>?,
        _ body: (_ key: () throws(JSONParseError) -> String, _ value: Range<Int>) throws(JSONParseError) -> Void
    ) throws(JSONParseError) {
        try scan(bytes, range ?? 0..<bytes.count) { (s) throws(JSONParseError) in
            guard try s.valueStart(depth: 0) == UInt8(ascii: "{") else { throw s.error("expected '{'") }
            try s.object { (s, key) throws(JSONParseError) in
                s.skipWhitespace()
                let start = s.index
                try s.skipValue(depth: 1)
                let scanner = s
                try body({ () throws(JSONParseError) in try scanner.decodeString(key) }, start..<s.index)
            }
        }
    }

    /// Runs `body` on a scanner over `range`, then checks that only whitespace follows.
    private static func scan<T>(
        _ bytes: [UInt8], _ range: Range<Int>, _ body: (inout JSONScanner) throws(JSONParseError) -> T
    ) throws(JSONParseError) -> T {
        try bytes.withUnsafeBufferPointer { (buffer) throws(JSONParseError) -> T in
            var scanner = JSONScanner(buffer, range: range)
            let result = try body(&scanner)
            try scanner.finish()
            return result
        }
    }
}

// MARK: Reading in place (no copy of the bytes)

extension RawJSON {
    /// A member's key where it stands in the bytes.
    package struct Key {
        let scanner: JSONScanner
        /// The key's raw contents (escapes kept).
        let contents: Range<Int>

        /// Whether the key is `name` (as Swift compares strings: canonically equivalent). An unescaped key equal byte
        /// for byte, or ASCII on both sides, is decided without decoding it.
        package func isEqual(to name: String) -> Bool {
            let raw = UnsafeBufferPointer(rebasing: scanner.bytes[contents])
            var name = name
            let decided: Bool? = name.withUTF8 { wanted in
                if raw.elementsEqual(wanted) { return true }
                let plain = !raw.contains { $0 >= 0x80 || $0 == UInt8(ascii: "\\") }
                return plain && !wanted.contains { $0 >= 0x80 } ? false : nil
            }
            if let decided { return decided }
            return (try? scanner.decodeString(contents)) == name
        }
    }

    /// Calls `body` with each member of the object spanning `range` of `bytes`: its key, and its value's byte range.
    /// Checks the object's grammar; throws where the value there is not an object.
    package static func eachMember(
        in bytes: UnsafeRawBufferPointer, object range: Range<Int>, _ body: (Key, Range<Int>) -> Void
    ) throws(JSONParseError) {
        try scan(bytes, range) { (s) throws(JSONParseError) in
            guard try s.valueStart(depth: 0) == UInt8(ascii: "{") else { throw s.error("expected '{'") }
            try s.object { (s, key) throws(JSONParseError) in
                s.skipWhitespace()
                let start = s.index
                try s.skipValue(depth: 1)
                body(Key(scanner: s, contents: key), start..<s.index)
            }
        }
    }

    /// The JSON string spanning `range` of `bytes`, decoded; nil where the value there is not a string.
    package static func string(in bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String? {
        try? scan(bytes, range) { (s) throws(JSONParseError) in
            guard try s.valueStart(depth: 0) == UInt8(ascii: "\"") else { throw s.error("expected a string") }
            return try s.decodeString(try s.string())
        }
    }

    /// The JSON boolean spanning `range` of `bytes`; nil where the value there is not one.
    package static func bool(in bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Bool? {
        try? scan(bytes, range) { (s) throws(JSONParseError) -> Bool? in
            switch try s.valueStart(depth: 0) {
            case UInt8(ascii: "t"): try s.literal("true"); return true
            case UInt8(ascii: "f"): try s.literal("false"); return false
            default: return nil
            }
        } ?? nil
    }

    private static func scan<T>(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ body: (inout JSONScanner) throws(JSONParseError) -> T
    ) throws(JSONParseError) -> T {
        var scanner = JSONScanner(bytes.assumingMemoryBound(to: UInt8.self), range: range)
        let result = try body(&scanner)
        try scanner.finish()
        return result
    }
}
