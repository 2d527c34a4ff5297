import Yams

/// A configuration document as read: scalars, sequences and mappings, each with the line it was written on.
///
/// YAML is read with Yams; JSON is valid YAML, so a JSON file reads the same way. Everything above this
/// type (sections, validation) works on the tree and never sees the parser.
public indirect enum ConfigurationNode: Sendable {
    case scalar(String, line: Int)
    case sequence([ConfigurationNode], line: Int)
    case mapping([(key: String, value: ConfigurationNode)], line: Int)
    /// `~`, `null` or nothing after a key.
    case null(line: Int)

    /// The line the node starts on (1-based; 0 when unknown).
    public var line: Int {
        switch self {
        case .scalar(_, let line), .sequence(_, let line), .mapping(_, let line), .null(let line): line
        }
    }

    /// What the node is, for messages ("a text", "a list", "a mapping").
    var kindName: String {
        switch self {
        case .scalar: "a value"
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .null: "nothing"
        }
    }

    /// Reads a document. An empty document is an empty mapping.
    /// - Throws: `ConfigurationError` with the parser's line and column.
    public static func parse(_ text: String, file: String) throws -> ConfigurationNode {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigurationError.syntax(file: file, detail: Self.describe(error))
        } catch {
            throw ConfigurationError.syntax(file: file, detail: "\(error)")
        }
        guard let node else { return .mapping([], line: 1) }
        return try convert(node, file: file)
    }

    private static func convert(_ node: Node, file: String) throws -> ConfigurationNode {
        let line = node.mark?.line ?? 0
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) { return .null(line: line) }
            return .scalar(scalar.string, line: line)
        case .sequence(let sequence):
            return .sequence(try sequence.map { try convert($0, file: file) }, line: line)
        case .mapping(let mapping):
            var pairs: [(key: String, value: ConfigurationNode)] = []
            for (key, value) in mapping {
                guard case .scalar(let name) = key else {
                    throw ConfigurationError.invalid(file: file, path: "", line: key.mark?.line ?? line, detail: "a key must be a plain name")
                }
                if pairs.contains(where: { $0.key == name.string }) {
                    throw ConfigurationError.invalid(
                        file: file, path: name.string, line: key.mark?.line ?? line, detail: "'\(name.string)' is given twice")
                }
                pairs.append((name.string, try convert(value, file: file)))
            }
            return .mapping(pairs, line: line)
        case .alias:
            throw ConfigurationError.invalid(file: file, path: "", line: line, detail: "YAML aliases are not supported; write the value out")
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            return "line \(mark.line), column \(mark.column): \(what)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            return "line \(context.mark.line): \(duplicates.joined(separator: ", ")) given twice"
        default:
            return "\(error)"
        }
    }
}
