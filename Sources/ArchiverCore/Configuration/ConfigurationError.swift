/// A configuration file that cannot be used: where (file, line, the key's path) and what to write instead.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    fileprivate enum Base: Sendable, Equatable {
        case unreadable, syntax, unknownKey, wrongType, missing, invalid
    }

    /// What went wrong, for callers that branch on it.
    public struct Kind: Sendable, Equatable {
        fileprivate let base: Base
        public static let unreadable = Kind(base: .unreadable)
        public static let syntax = Kind(base: .syntax)
        public static let unknownKey = Kind(base: .unknownKey)
        public static let wrongType = Kind(base: .wrongType)
        public static let missing = Kind(base: .missing)
        public static let invalid = Kind(base: .invalid)
    }

    public let kind: Kind
    /// The file, as named on the command line.
    public let file: String
    /// The key's path, e.g. `rules[2].actions[0].root`; empty for the whole document.
    public let path: String
    /// The line (1-based), 0 when unknown.
    public let line: Int
    /// What is wrong and what to do.
    public let detail: String

    public var description: String {
        var place = file
        if line > 0 { place += ":\(line)" }
        if !path.isEmpty { place += ": \(path)" }
        return "\(place): \(detail)"
    }

    static func unreadable(file: String, detail: String) -> ConfigurationError {
        ConfigurationError(kind: .unreadable, file: file, path: "", line: 0, detail: detail)
    }

    static func syntax(file: String, detail: String) -> ConfigurationError {
        ConfigurationError(kind: .syntax, file: file, path: "", line: 0, detail: "not valid YAML or JSON (\(detail))")
    }

    static func unknownKey(file: String, path: String, line: Int, key: String, known: [String]) -> ConfigurationError {
        let suggestion = known.min { editDistance($0, key) < editDistance($1, key) }.flatMap { editDistance($0, key) <= 2 ? $0 : nil }
        let hint = suggestion.map { " (did you mean '\($0)'?)" } ?? ""
        return ConfigurationError(
            kind: .unknownKey, file: file, path: path, line: line,
            detail: "unknown key '\(key)'\(hint); the keys here are \(known.joined(separator: ", "))")
    }

    static func wrongType(file: String, path: String, line: Int, expected: String, found: String) -> ConfigurationError {
        ConfigurationError(kind: .wrongType, file: file, path: path, line: line, detail: "expected \(expected), found \(found)")
    }

    static func missing(file: String, path: String, line: Int, key: String, detail: String = "") -> ConfigurationError {
        ConfigurationError(kind: .missing, file: file, path: path, line: line, detail: "'\(key)' is required\(detail.isEmpty ? "" : "; \(detail)")")
    }

    /// A value that is there and of the right type but cannot be used.
    public static func invalid(file: String, path: String, line: Int, detail: String) -> ConfigurationError {
        ConfigurationError(kind: .invalid, file: file, path: path, line: line, detail: detail)
    }

    /// Levenshtein distance, for "did you mean".
    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
