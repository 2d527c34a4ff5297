import ArchiverCore
import Crypto
import Foundation
import JSONToolkit

/// One row of the change table with its values: a deleted row, as the trigger recorded it.
struct ChangeRow: Sendable {
    var seq: Int64
    var table: String
    var eventName: String
    /// `manual` or `ttl`.
    var kind: String
    /// Epoch milliseconds.
    var eventTimeMilliseconds: Int64
    /// The image's columns, in table order.
    var columns: [String]
    /// The key's columns, in key order.
    var keyColumns: [String]
    /// Values by `ord`: the index into `columns`, or -1 for the rowid.
    var values: [Int: SQLiteValue]

    /// The width `SequenceNumber` is zero-padded to, so that names sort in deletion order (Int64 has 19 digits).
    static let sequenceNumberWidth = 20

    /// The stream record for this row: one line of DynamoDB Streams-shaped JSON (DESIGN §2).
    ///
    /// A pure function of the row, so a replay yields the same bytes.
    var streamRecord: String {
        var image: [(String, AttributeValue)] = []
        for (ord, column) in columns.enumerated() {
            if let value = values[ord] { image.append((column, value.attributeValue)) }
        }
        var keys: [(String, AttributeValue)] = []
        for key in keyColumns {
            if let ord = columns.firstIndex(of: key), let value = values[ord] {
                keys.append((key, value.attributeValue))
            } else if let value = values[-1] {
                keys.append((key, value.attributeValue))
            }
        }
        let size = keys.reduce(0) { $0 + attributeSize($1.0, $1.1) } + image.reduce(0) { $0 + attributeSize($1.0, $1.1) }

        var out = "{\"eventID\":\"\(eventID)\",\"eventName\":"
        writeJSONString(eventName, to: &out)
        out += ",\"eventVersion\":\"1.1\",\"eventSource\":\"archiver:sqlite\",\"awsRegion\":\"local\",\"dynamodb\":{"
        out += "\"ApproximateCreationDateTime\":" + epochSecondsText(milliseconds: eventTimeMilliseconds)
        out += ",\"Keys\":"
        JSONValue.object(keys.map { ($0.0, $0.1.dynamoJSON) }).write(to: &out)
        out += ",\"OldImage\":"
        JSONValue.object(image.map { ($0.0, $0.1.dynamoJSON) }).write(to: &out)
        out += ",\"SequenceNumber\":\"\(sequenceNumber)\",\"SizeBytes\":\(size),\"StreamViewType\":\"NEW_AND_OLD_IMAGES\"}"
        if kind == "ttl" {
            out += ",\"userIdentity\":{\"type\":\"Service\",\"principalId\":\"dynamodb.amazonaws.com\"}"
        }
        out += ",\"eventSourceARN\":"
        writeJSONString("arn:archiver:sqlite:local::table/" + table, to: &out)
        out += "}"
        return out
    }

    /// `seq`, zero-padded to `sequenceNumberWidth` digits.
    var sequenceNumber: String {
        let digits = String(seq)
        return String(repeating: "0", count: max(0, Self.sequenceNumberWidth - digits.count)) + digits
    }

    /// 32 hex digits derived from the table, the sequence number and the time: stable across replays.
    var eventID: String {
        let digest = SHA256.hash(data: Array("archiver:sqlite\n\(table)\n\(seq)\n\(eventTimeMilliseconds)".utf8))
        return digest.prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

/// Epoch milliseconds as seconds: `1705315800` or `1705315800.123` (no trailing zeros).
func epochSecondsText(milliseconds: Int64) -> String {
    let magnitude = milliseconds.magnitude
    var text = (milliseconds < 0 ? "-" : "") + String(magnitude / 1000)
    var fraction = magnitude % 1000
    if fraction != 0 {
        var width = 3
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        let digits = String(fraction)
        text += "." + String(repeating: "0", count: width - digits.count) + digits
    }
    return text
}

/// An attribute's size as DynamoDB counts it: the name's UTF-8 bytes plus the value's
/// (strings by UTF-8 bytes, numbers about one byte per two significant digits plus one, binary by length).
func attributeSize(_ name: String, _ value: AttributeValue) -> Int {
    name.utf8.count + valueSize(value)
}

private func valueSize(_ value: AttributeValue) -> Int {
    switch value {
    case .s(let s): s.utf8.count
    case .n(let n): numberSize(n)
    case .b(let b): b.count
    case .bool, .null: 1
    case .m(let members): 3 + members.reduce(0) { $0 + 1 + attributeSize($1.0, $1.1) }
    case .l(let items): 3 + items.reduce(0) { $0 + 1 + valueSize($1) }
    case .ss(let items): items.reduce(0) { $0 + $1.utf8.count }
    case .ns(let items): items.reduce(0) { $0 + numberSize($1) }
    case .bs(let items): items.reduce(0) { $0 + $1.count }
    }
}

private func numberSize(_ text: String) -> Int {
    var digits = Array(text.utf8.prefix { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }.filter { $0 >= 0x30 && $0 <= 0x39 })[...]
    while digits.first == UInt8(ascii: "0") { digits = digits.dropFirst() }
    while digits.last == UInt8(ascii: "0") { digits = digits.dropLast() }
    return (digits.count + 1) / 2 + 1
}
