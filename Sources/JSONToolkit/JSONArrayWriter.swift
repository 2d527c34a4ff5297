/// Writes JSON arrays of request bodies and documents (the objects inside come from ``JSONObjectWriter``).
public enum JSONArrayWriter {
    /// `["a","b"]`.
    public static func strings(_ values: [String]) -> [UInt8] {
        elements(values.map { value in
            var out: [UInt8] = []
            writeJSONString(value, to: &out)
            return out
        })
    }

    /// One object per element, each written by `write`.
    public static func objects<T>(_ values: [T], _ write: (T, inout JSONObjectWriter) -> Void) -> [UInt8] {
        elements(values.map { value in
            var object = JSONObjectWriter()
            write(value, &object)
            return object.finished()
        })
    }

    /// Already-encoded elements joined into an array.
    public static func elements(_ encoded: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "[")]
        for (index, element) in encoded.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += element
        }
        out.append(UInt8(ascii: "]"))
        return out
    }
}
