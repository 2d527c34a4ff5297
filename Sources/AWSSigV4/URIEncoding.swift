/// AWS's URI encoding (the `UriEncode()` of the SigV4 specification): every byte of the UTF-8 form
/// except the unreserved characters `A–Z a–z 0–9 - _ . ~` becomes `%XY` with uppercase hex.
/// `/` is kept as is when `encodeSlash` is false (for paths) and encoded as `%2F` otherwise (for
/// query names and values).
///
///     awsURIEncode("a b/ሴ", encodeSlash: false)  // "a%20b/%E1%88%B4"
///     awsURIEncode("a b/ሴ", encodeSlash: true)   // "a%20b%2F%E1%88%B4"
public func awsURIEncode(_ s: String, encodeSlash: Bool) -> String {
    awsURIEncode(bytes: s.utf8, encodeSlash: encodeSlash)
}

private let upperHexDigits = Array("0123456789ABCDEF".utf8)

/// ``awsURIEncode(_:encodeSlash:)`` over raw bytes, which need not be valid UTF-8
/// (a decoded query value such as `%FF` is one byte that is not).
func awsURIEncode<Bytes: Sequence>(bytes: Bytes, encodeSlash: Bool) -> String where Bytes.Element == UInt8 {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.underestimatedCount * 3)
    for byte in bytes {
        if isUnreserved(byte) || (byte == UInt8(ascii: "/") && !encodeSlash) {
            out.append(byte)
        } else {
            out.append(UInt8(ascii: "%"))
            out.append(upperHexDigits[Int(byte >> 4)])
            out.append(upperHexDigits[Int(byte & 0x0F)])
        }
    }
    return String(decoding: out, as: UTF8.self)
}

/// Whether `byte` is one of the characters AWS never encodes: `A–Z a–z 0–9 - _ . ~`.
private func isUnreserved(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
        UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

/// Percent-decodes `s` to bytes. Only well-formed `%XY` sequences are decoded; a `%` not followed by
/// two hex digits is kept literally, and `+` stays `+` (it is not a space in SigV4).
func percentDecode<S: StringProtocol>(_ s: S) -> [UInt8] {
    let input = Array(s.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(input.count)
    var index = 0
    while index < input.count {
        let byte = input[index]
        if byte == UInt8(ascii: "%"), index + 2 < input.count,
            let high = hexValue(input[index + 1]), let low = hexValue(input[index + 2])
        {
            out.append(high << 4 | low)
            index += 3
        } else {
            out.append(byte)
            index += 1
        }
    }
    return out
}

/// The value of one hex digit, either case.
private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}
