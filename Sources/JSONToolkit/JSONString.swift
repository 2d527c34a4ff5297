/// The one JSON string escaper: everything in this package that writes a JSON string writes it here.
///
/// Escaped: `"` and `\`; `\n`, `\r` and `\t` by name; every other control character below U+0020 as `\u00XX`
/// (lower-case hex); and U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR as `\u2028` and `\u2029`.
/// Everything else, `/` and non-ASCII text included, is written as it is (UTF-8).
///
/// Why U+2028 and U+2029 are escaped though JSON allows them raw: the records archiver writes are JSON lines,
/// and some line-oriented readers (JavaScript before ES2019, editors, Unicode line-breaking splitters) end a
/// line at these two characters, cutting a record in two. Escaped, a record is one line for every reader,
/// and means exactly the same to every JSON parser. It is also what the SQLite source has always written
/// into its records, so the archived bytes stay as they were.
public func writeJSONString(_ s: String, to out: inout String) {
    var text = s
    let plain = text.withUTF8 { JSONString.firstEscape(in: $0, from: 0) == nil }
    out += "\""
    if plain {
        out += s
    } else {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count + 8)
        JSONString.appendContents(of: s, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }
    out += "\""
}

/// Appends `s` as a JSON string literal, quotes included (see `writeJSONString(_:to:)` for what is escaped).
public func writeJSONString(_ s: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    JSONString.appendContents(of: s, to: &out)
    out.append(UInt8(ascii: "\""))
}

enum JSONString {
    /// The offset of the first byte at or after `start` that begins something to escape, or nil.
    @inline(__always)
    static func firstEscape(in utf8: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start
        while i < utf8.count {
            let b = utf8[i]
            if b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { return i }
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            if b == 0xE2, i + 2 < utf8.count, utf8[i + 1] == 0x80, utf8[i + 2] & 0xFE == 0xA8 { return i }
            i += 1
        }
        return nil
    }

    /// Appends the escaped contents of `s`, without quotes.
    static func appendContents(of s: String, to out: inout [UInt8]) {
        var text = s
        text.withUTF8 { utf8 in
            var runStart = 0
            while let i = firstEscape(in: utf8, from: runStart) {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                let b = utf8[i]
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), b]
                case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
                case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
                case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
                case 0xE2: out += Array((utf8[i + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                default: out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), 0x30, 0x30, hexDigit(b >> 4), hexDigit(b & 0xF)]
                }
                runStart = i + (b == 0xE2 ? 3 : 1)
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
    }
}
