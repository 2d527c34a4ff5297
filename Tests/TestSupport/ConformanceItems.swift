import ArchiverCore
import Foundation

/// The items the conformance suites write and expect back: keyed by `PK` (S, the partition key) and `SK` (N, the
/// sort key), with one attribute of each type that every feed and every table keeps exactly as it is.
public enum ConformanceItems {
    /// Item `n`: `PK` = `ITEM#<n>`, `SK` = n, text with escapes and characters outside ASCII, a number, bytes, NULL.
    public static func item(_ n: Int, note: String? = nil) -> Item {
        Item([
            ("PK", .s("ITEM#\(n)")),
            ("SK", .n("\(n)")),
            ("note", .s(note ?? "h\u{e9}llo \(n) \u{2713} \u{6771}\u{4eac} \u{1F600} \"quoted\" back\\slash")),
            ("count", .n("\(n * 7)")),
            ("blob", .b([0, 1, 2, UInt8(n & 0xFF), 255])),
            ("absent", .null),
        ])
    }

    /// Item `n`'s key attributes, in key order.
    public static func keys(_ n: Int) -> [KeyAttribute] {
        [KeyAttribute(name: "PK", type: .string, value: "ITEM#\(n)"), KeyAttribute(name: "SK", type: .number, value: "\(n)")]
    }

    /// Item `n`'s key as DynamoDB JSON.
    public static func keyJSON(_ n: Int) -> String { #"{"PK":{"S":"ITEM#\#(n)"},"SK":{"N":"\#(n)"}}"# }

    /// The number of an item, from its `PK` (`ITEM#<n>`).
    public static func number(ofKey pk: String) -> Int? {
        pk.hasPrefix("ITEM#") ? Int(pk.dropFirst(5)) : nil
    }

    /// An item in DynamoDB JSON, for the attribute types these items use (S, N, B, NULL).
    public static func dynamoJSON(_ item: Item) -> String {
        "{" + item.attributes.map { name, value in "\(quoted(name)):\(dynamoJSON(value))" }.joined(separator: ",") + "}"
    }

    static func dynamoJSON(_ value: AttributeValue) -> String {
        switch value {
        case .s(let s): "{\"S\":\(quoted(s))}"
        case .n(let n): "{\"N\":\(quoted(n))}"
        case .b(let b): "{\"B\":\(quoted(Data(b).base64EncodedString()))}"
        case .null: "{\"NULL\":true}"
        case .bool(let b): "{\"BOOL\":\(b)}"
        default: fatalError("ConformanceItems writes S, N, B, BOOL and NULL only")
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as UTF-8.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
