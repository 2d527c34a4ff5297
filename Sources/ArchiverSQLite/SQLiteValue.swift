import ArchiverCore
import Foundation
import GRDB

/// A value as SQLite stored it: its storage class and its exact contents.
enum SQLiteValue: Sendable, Equatable {
    case integer(Int64)
    case real(Double)
    /// Text, as the bytes SQLite holds (normally UTF-8; not always valid).
    case text([UInt8])
    case blob([UInt8])
    case null

    /// Reads a value fetched together with its `typeof()`, where text was fetched as `CAST(value AS BLOB)`
    /// so that its bytes arrive untouched (NUL characters and invalid UTF-8 included).
    init(type: String, value: DatabaseValue) {
        switch (type, value.storage) {
        case ("integer", .int64(let i)): self = .integer(i)
        case ("real", .double(let d)): self = .real(d)
        case ("real", .int64(let i)): self = .real(Double(i))
        case ("text", .blob(let data)): self = .text(Array(data))
        case ("text", .string(let s)): self = .text(Array(s.utf8))
        case ("text", .null): self = .text([])
        case ("blob", .blob(let data)): self = .blob(Array(data))
        case ("blob", .null): self = .blob([])
        default: self = .null
        }
    }

    /// The value in DynamoDB terms: TEXT → S (B when its bytes are not UTF-8), INTEGER and REAL → N
    /// (exact: a REAL is written as the shortest decimal that reads back as the same double), BLOB → B,
    /// NULL → NULL.
    var attributeValue: AttributeValue {
        switch self {
        case .integer(let i): .n(String(i))
        case .real(let d): .n(SQLiteNumber.text(of: d))
        case .text(let bytes): String(validating: bytes, as: UTF8.self).map(AttributeValue.s) ?? .b(bytes)
        case .blob(let bytes): .b(bytes)
        case .null: .null
        }
    }
}

/// Numbers between SQLite's INTEGER and REAL and DynamoDB's decimal text.
enum SQLiteNumber {
    /// How an infinite REAL is written: DynamoDB JSON has no infinity, and this reads back as one.
    static let infinity = "1e999"

    /// The shortest decimal text that reads back as exactly `value`; it always holds a `.` or an exponent,
    /// so it reads back as a REAL rather than an INTEGER (`1.0`, `0.1`, `1e+300`).
    static func text(of value: Double) -> String {
        if value.isInfinite { return value < 0 ? "-" + infinity : infinity }
        if value.isNaN { return "0" } // SQLite stores NaN as NULL; never reached.
        return value.description
    }

    /// The SQLite value for a DynamoDB number: INTEGER when it is an integer that fits 64 bits; REAL when it
    /// has a fraction or exponent and is exactly the shortest text of a double (so nothing is rounded);
    /// otherwise TEXT holding the number as written (e.g. 38 digits).
    static func value(of text: String) -> DatabaseValue {
        var body = Substring(text)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        if !body.isEmpty, body.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            if let i = Int64(text) { return i.databaseValue }
            return text.databaseValue
        }
        if text == infinity || text == "+" + infinity { return Double.infinity.databaseValue }
        if text == "-" + infinity { return (-Double.infinity).databaseValue }
        if let d = Double(text), d.isFinite, let written = DecimalText(text), let shortest = DecimalText(d.description), written == shortest {
            return d.databaseValue
        }
        return text.databaseValue
    }

    /// A decimal number as sign, significant digits and exponent, so that `0.10`, `1e-1` and `0.1` compare equal.
    struct DecimalText: Equatable {
        var negative: Bool
        var digits: [UInt8]
        var exponent: Int

        init?(_ text: String) {
            var bytes = Array(text.utf8)[...]
            negative = bytes.first == UInt8(ascii: "-")
            if bytes.first == UInt8(ascii: "-") || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
            var digits: [UInt8] = []
            var fraction = 0
            var inFraction = false
            var exponent = 0
            while let byte = bytes.first {
                if byte >= 0x30 && byte <= 0x39 {
                    digits.append(byte)
                    if inFraction { fraction += 1 }
                } else if byte == UInt8(ascii: "."), !inFraction {
                    inFraction = true
                } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                    guard let e = Int(String(decoding: bytes.dropFirst(), as: UTF8.self)), abs(e) < 100_000 else { return nil }
                    exponent = e
                    break
                } else {
                    return nil
                }
                bytes = bytes.dropFirst()
            }
            guard !digits.isEmpty else { return nil }
            exponent -= fraction
            while digits.first == UInt8(ascii: "0") { digits.removeFirst() }
            while digits.last == UInt8(ascii: "0") {
                digits.removeLast()
                exponent += 1
            }
            if digits.isEmpty { exponent = 0 }
            self.digits = digits
            self.exponent = exponent
        }
    }
}
