import JSONToolkit

/// Small helpers for writing SQL text safely.
enum SQL {
    /// `"name"`: an identifier quoted for SQLite, whatever characters it holds (spaces, quotes, unicode).
    static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `'text'`: a string literal.
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// SQLite compares identifiers without regard to ASCII case (only ASCII); this is the key that does the same.
    static func foldedName(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(scalar.value + 0x20)! : scalar
        }))
    }

    /// A JSON array of strings, as SQL would store it.
    static func jsonArray(_ strings: [String]) -> String {
        var out = "["
        for (i, s) in strings.enumerated() {
            if i > 0 { out += "," }
            writeJSONString(s, to: &out)
        }
        return out + "]"
    }
}

import Foundation
