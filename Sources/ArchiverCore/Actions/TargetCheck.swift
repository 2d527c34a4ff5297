import Foundation

/// The safety rule for filled targets: a key or prefix filled from a deleted record (data users control) must
/// stay inside its root. Checked when an entry is enqueued and again right before it runs.
///
/// A target is refused when it is empty or absolute; has an empty, `.` or `..` segment; holds a NUL or
/// another control character, a backslash, a wildcard (`*`, `?`, `[`), an invisible or direction-changing
/// character (RTL marks, zero-width joiners, byte-order marks), a character that NFKC-normalises to `.`, `/`
/// or `\` (fullwidth solidus, one-dot leader) or looks like a slash (division slash), or a percent-encoded
/// form of any of those (`%2e%2e`, `%2F`, `%00`, and `%25`, which decodes into one); has a segment over 255
/// bytes or a whole key over S3's 1,024 bytes (4,095 for a folder). A prefix must end in `/` and be at least
/// `min-depth` segments below its root.
public enum TargetCheck {
    /// What the target names.
    public enum Shape: Sendable, Equatable {
        /// One object or file.
        case object
        /// Everything under a folder of keys, at least `minDepth` segments below the root.
        case prefix(minDepth: Int)
    }

    /// The longest target looked at closely; anything longer is refused on its length alone.
    static let longestTarget = 4095

    /// Why `target` may not be used under `root`, or nil when it stays inside it.
    /// - Parameter subject: how the sentence names the target (`it`, `the key '../x'`).
    public static func problem(_ target: String, shape: Shape, root: RootLocation, subject: String = "it") -> String? {
        let bytes = target.utf8.count
        if target.isEmpty { return "\(subject) is empty" }
        switch root {
        case .s3(_, let prefix):
            if prefix.utf8.count + bytes > 1024 { return "with the root's prefix \(subject) is \(prefix.utf8.count + bytes) bytes, longer than S3's 1,024-byte keys" }
        case .folder(let path):
            if path.utf8.count + 1 + bytes > longestTarget { return "with the root's folder \(subject) is \(path.utf8.count + 1 + bytes) bytes, longer than a path may be (4,095)" }
        }
        if target.hasPrefix("/") { return "\(subject) is absolute (starts with '/'); targets are relative to their root" }
        switch shape {
        case .object:
            if target.hasSuffix("/") { return "\(subject) ends with '/', so it names a folder, not one object (use delete-prefix for a folder)" }
            return problem(inSegments: target, what: subject)
        case .prefix(let minDepth):
            guard target.hasSuffix("/") else {
                return "\(subject) does not end with '/'; a prefix must (otherwise 'users/4' would also take 'users/42/')"
            }
            let body = String(target.dropLast())
            if let problem = problem(inSegments: body, what: subject) { return problem }
            let depth = body.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).count
            if depth < minDepth {
                return "\(subject) is \(depth) segment\(depth == 1 ? "" : "s") below the root, fewer than the \(minDepth) the action requires (min-depth)"
            }
            return nil
        }
    }

    /// Why an upload id may not be used, or nil.
    public static func uploadIDProblem(_ id: String) -> String? {
        if id.isEmpty { return "the upload id is empty" }
        if id.utf8.count > 1024 { return "the upload id is \(id.utf8.count) bytes long (at most 1,024)" }
        for scalar in id.unicodeScalars where isControl(scalar) || isInvisible(scalar) {
            return "the upload id holds \(name(scalar))"
        }
        return nil
    }

    /// Checks the characters and the segments of a path that has no trailing `/`.
    static func problem(inSegments path: String, what: String) -> String? {
        if path.utf8.count > longestTarget { return "\(what) is \(path.utf8.count) bytes long" }
        for scalar in path.unicodeScalars {
            if let problem = characterProblem(scalar) { return "\(what) holds \(problem)" }
        }
        if let encoded = percentEncodedProblem(path) { return "\(what) holds \(encoded)" }
        // Bytes, not Characters: a '/' or '.' followed by a combining mark is still a separator or a dot.
        for segment in path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if segment.isEmpty { return "\(what) has an empty segment ('a//b')" }
            if segment.elementsEqual([UInt8(ascii: ".")]) || segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                return "\(what) has a '\(String(decoding: segment, as: UTF8.self))' segment"
            }
            if segment.count > 255 { return "\(what) has a segment of \(segment.count) bytes (at most 255)" }
        }
        return nil
    }

    /// Why one character may not stand in a target.
    static func characterProblem(_ scalar: Unicode.Scalar) -> String? {
        if isControl(scalar) { return name(scalar) }
        switch scalar {
        case "\\": return "a backslash"
        case "*", "?", "[": return "a wildcard ('\(scalar)')"
        default: break
        }
        guard !scalar.isASCII else { return nil }
        if isInvisible(scalar) { return name(scalar) }
        if slashLookalikes.contains(scalar.value) { return "\(name(scalar)), which looks like '/'" }
        let normalised = String(scalar).precomposedStringWithCompatibilityMapping
        if normalised.contains(where: { $0 == "." || $0 == "/" || $0 == "\\" }) {
            return "\(name(scalar)), which normalises (NFKC) to '\(normalised)'"
        }
        return nil
    }

    /// `%2e`, `%2F`, `%00`, … : a percent-encoded form of a character a target may not hold, or of `%` itself.
    static func percentEncodedProblem(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        var index = 0
        while index + 2 < bytes.count {
            defer { index += 1 }
            guard bytes[index] == UInt8(ascii: "%"), let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { continue }
            let decoded = high << 4 | low
            let text = String(decoding: bytes[index...(index + 2)], as: UTF8.self)
            switch decoded {
            case 0x00..<0x20, 0x7F: return "a percent-encoded control character ('\(text)')"
            case UInt8(ascii: "."): return "a percent-encoded '.' ('\(text)')"
            case UInt8(ascii: "/"): return "a percent-encoded '/' ('\(text)')"
            case UInt8(ascii: "\\"): return "a percent-encoded backslash ('\(text)')"
            case UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "["): return "a percent-encoded wildcard ('\(text)')"
            case UInt8(ascii: "%"): return "a percent-encoded '%' ('\(text)'), which decodes into another encoding"
            default: continue
            }
        }
        return nil
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// Slashes that no normalisation turns into '/', but a person reads as one.
    static let slashLookalikes: Set<UInt32> = [0x2044, 0x2215, 0x2216, 0x29F5, 0x29F8, 0x29F9, 0x2571, 0x2572, 0x3033]

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Characters that show nothing or change the direction of what follows: a target holding one does not read as it is.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator, .privateUse, .surrogate: true
        default: false
        }
    }

    static func name(_ scalar: Unicode.Scalar) -> String {
        let code = "U+" + String(String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 4))
        if scalar.value == 0 { return "a NUL character (\(code))" }
        if isControl(scalar) { return "a control character (\(code))" }
        if isInvisible(scalar) { return "an invisible or direction-changing character (\(code))" }
        return "'\(scalar)' (\(code))"
    }

    /// Text for a terminal: control and invisible characters escaped (so a value cannot rewrite the line it is
    /// shown on), cut to `limit` characters.
    public static func printable(_ value: String, limit: Int = 200) -> String {
        var out = ""
        var count = 0
        for scalar in value.unicodeScalars {
            if count == limit { return out + "… (\(value.utf8.count) bytes)" }
            if isControl(scalar) || isInvisible(scalar) {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }

    /// A value for a message: quoted, control and invisible characters escaped, cut to `limit` characters.
    public static func quoted(_ value: String, limit: Int = 80) -> String {
        var out = "'"
        var count = 0
        for scalar in value.unicodeScalars {
            if count == limit {
                out += "…' (\(value.utf8.count) bytes)"
                return out
            }
            if isControl(scalar) || isInvisible(scalar) || scalar == "'" {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out + "'"
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
