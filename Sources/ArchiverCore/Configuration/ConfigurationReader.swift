/// A value of the configuration with where it stands (file, key path, line), read into typed values with
/// errors that say where and what to write.
public struct ConfigurationValue {
    public let node: ConfigurationNode
    public let file: String
    /// `rules[2].actions[0]`.
    public let path: String

    public init(node: ConfigurationNode, file: String, path: String) {
        self.node = node
        self.file = file
        self.path = path
    }

    public var line: Int { node.line }

    /// The error for a value that is there but cannot be used.
    public func invalid(_ detail: String) -> ConfigurationError {
        .invalid(file: file, path: path, line: line, detail: detail)
    }

    func wrongType(_ expected: String) -> ConfigurationError {
        var found = node.kindName
        if case .scalar(let text, _) = node { found = "'\(text)'" }
        return .wrongType(file: file, path: path, line: line, expected: expected, found: found)
    }

    /// Text (a YAML scalar of any kind: `5`, `true` and `abc` are all text here).
    public func string() throws -> String {
        guard case .scalar(let text, _) = node else { throw wrongType("a text value") }
        return text
    }

    /// Text that is not empty.
    public func nonEmptyString() throws -> String {
        let text = try string()
        guard !text.isEmpty else { throw invalid("must not be empty") }
        return text
    }

    /// A whole number within `range`.
    public func int(in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        let text = try string()
        guard let value = Int(text.replacingUnderscores) else { throw wrongType("a whole number") }
        guard range.contains(value) else { throw invalid("\(value) is out of range (\(range.lowerBound) to \(range.upperBound))") }
        return value
    }

    /// `true` / `false` (also yes/no, on/off).
    public func bool() throws -> Bool {
        switch try string().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw wrongType("true or false")
        }
    }

    /// A duration: `500ms`, `90s`, `5m`, `1h`, `30d` or plain seconds.
    public func duration() throws -> ConfigurationDuration {
        let text = try string()
        guard let duration = ConfigurationDuration(text) else {
            throw invalid("'\(text)' is not a duration; write e.g. 500ms, 90s, 5m, 1h or 30d")
        }
        return duration
    }

    /// One of `choices`.
    public func choice(_ choices: [String]) throws -> String {
        let text = try string()
        guard choices.contains(text) else { throw invalid("'\(text)' is not one of \(choices.joined(separator: ", "))") }
        return text
    }

    /// A mapping, read key by key.
    public func mapping() throws -> ConfigurationMapping {
        guard case .mapping(let pairs, _) = node else { throw wrongType("a mapping (key: value lines)") }
        return ConfigurationMapping(pairs: pairs, file: file, path: path, line: line)
    }

    /// A list; a single value where a list is expected counts as a list of one.
    public func list() throws -> [ConfigurationValue] {
        switch node {
        case .sequence(let items, _):
            return items.enumerated().map { ConfigurationValue(node: $1, file: file, path: "\(path)[\($0)]") }
        case .null:
            return []
        default:
            return [self]
        }
    }
}

/// The keys of one mapping, consumed as they are read; `finish()` refuses the keys nobody read, so a typo is
/// an error and never a setting silently ignored.
public final class ConfigurationMapping {
    private let pairs: [(key: String, value: ConfigurationNode)]
    public let file: String
    public let path: String
    public let line: Int
    private var known: [String] = []

    init(pairs: [(key: String, value: ConfigurationNode)], file: String, path: String, line: Int) {
        self.pairs = pairs
        self.file = file
        self.path = path
        self.line = line
    }

    /// The keys as written, in order.
    public var keys: [String] { pairs.map(\.key) }

    private func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The value of `key`, or nil when it is absent or null. Marks `key` as known.
    public func value(_ key: String) -> ConfigurationValue? {
        if !known.contains(key) { known.append(key) }
        guard let node = pairs.first(where: { $0.key == key })?.value else { return nil }
        if case .null = node { return nil }
        return ConfigurationValue(node: node, file: file, path: childPath(key))
    }

    /// The value of `key`, which must be there.
    public func required(_ key: String, _ detail: String = "") throws -> ConfigurationValue {
        guard let value = value(key) else { throw ConfigurationError.missing(file: file, path: path, line: line, key: key, detail: detail) }
        return value
    }

    /// The error for this mapping as a whole.
    public func invalid(_ detail: String) -> ConfigurationError {
        .invalid(file: file, path: path, line: line, detail: detail)
    }

    /// Refuses every key not read (or declared with `allow`).
    public func finish(allow extra: [String] = []) throws {
        let allowed = known + extra
        for (key, node) in pairs where !allowed.contains(key) {
            throw ConfigurationError.unknownKey(file: file, path: path, line: node.line, key: key, known: allowed.sorted())
        }
    }
}

/// A length of time in a configuration file.
public struct ConfigurationDuration: Sendable, Equatable, CustomStringConvertible {
    public let seconds: Double
    /// As written (`5m`), for `config check`.
    public let text: String

    public init(seconds: Double, text: String? = nil) {
        self.seconds = seconds
        self.text = text ?? Self.format(seconds)
    }

    /// `500ms`, `90s`, `5m`, `1h`, `30d`, or a plain number of seconds.
    public init?(_ text: String) {
        let trimmed = text.trimmingSpaces
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var seconds: Double?
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            if let number = Double(trimmed.dropLast(suffix.count)), number >= 0, number.isFinite {
                seconds = number * scale
                break
            }
        }
        if seconds == nil, let number = Double(trimmed), number >= 0, number.isFinite { seconds = number }
        guard let seconds else { return nil }
        self.seconds = seconds
        self.text = trimmed
    }

    public var description: String { text }

    static func format(_ seconds: Double) -> String {
        for (suffix, scale) in [("d", 86_400.0), ("h", 3600), ("m", 60), ("s", 1)] where seconds >= scale && seconds.truncatingRemainder(dividingBy: scale) == 0 {
            return "\(Int(seconds / scale))\(suffix)"
        }
        return seconds < 1 ? "\(Int(seconds * 1000))ms" : "\(seconds)s"
    }
}

extension String {
    fileprivate var replacingUnderscores: String { String(filter { $0 != "_" }) }
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
