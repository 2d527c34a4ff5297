/// Builds a JSON object as bytes, member by member; members whose value is already JSON are spliced in byte
/// for byte.
public struct JSONObjectWriter: Sendable {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var first = true

    public init() {}

    private mutating func key(_ name: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        writeJSONString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    /// A string member.
    public mutating func string(_ name: String, _ value: String) {
        key(name)
        writeJSONString(value, to: &bytes)
    }

    /// An integer member.
    public mutating func int(_ name: String, _ value: Int) {
        key(name)
        bytes += Array(String(value).utf8)
    }

    /// A boolean member.
    public mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        bytes += Array((value ? "true" : "false").utf8)
    }

    /// A member whose value is already JSON.
    public mutating func raw(_ name: String, _ json: [UInt8]) {
        key(name)
        bytes += json
    }

    /// A string-to-string map member.
    public mutating func stringMap(_ name: String, _ map: [(String, String)]) {
        var inner = JSONObjectWriter()
        for (k, v) in map { inner.string(k, v) }
        raw(name, inner.finished())
    }

    /// A member whose value is already JSON text.
    public mutating func raw(_ name: String, _ json: String) {
        key(name)
        bytes += json.utf8
    }

    /// A string member, or `null`.
    public mutating func optional(_ name: String, _ value: String?) {
        key(name)
        if let value { writeJSONString(value, to: &bytes) } else { bytes += "null".utf8 }
    }

    /// A member holding JSON text kept elsewhere (a database column): spliced as it is when it parses, else `null`.
    public mutating func stored(_ name: String, _ json: String?) {
        key(name)
        if let json, (try? JSONValue.parse(json)) != nil { bytes += json.utf8 } else { bytes += "null".utf8 }
    }

    /// A member holding a value.
    public mutating func value(_ name: String, _ value: JSONValue) {
        raw(name, value.serialized)
    }

    /// The finished object.
    public func finished() -> [UInt8] { bytes + [UInt8(ascii: "}")] }

    /// The finished object as text.
    public var text: String { String(decoding: finished(), as: UTF8.self) }
}
