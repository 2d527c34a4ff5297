import Foundation

/// What `--source` names: `jsonl:<path>`, `sqlite:<db>`, `dynamodb:<table>` or `dynamodb-stream:<arn>`.
public enum SourceSpec: Sendable, Equatable, CustomStringConvertible {
    case jsonLines(path: String)
    case sqlite(path: String)
    case dynamoDBTable(String)
    case dynamoDBStream(arn: String)

    public init(_ spec: String) throws {
        guard let colon = spec.firstIndex(of: ":") else {
            throw SourceError.invalidSpec("'\(spec)' is not a source; write jsonl:<file>, sqlite:<db>, dynamodb:<table> or dynamodb-stream:<arn>")
        }
        let kind = spec[..<colon]
        let value = String(spec[spec.index(after: colon)...])
        guard !value.isEmpty else { throw SourceError.invalidSpec("'\(spec)' names no \(kind == "jsonl" ? "file" : kind == "sqlite" ? "database" : "table or stream")") }
        switch kind {
        case "jsonl": self = .jsonLines(path: value)
        case "sqlite": self = .sqlite(path: value)
        case "dynamodb": self = .dynamoDBTable(value)
        case "dynamodb-stream":
            guard value.hasPrefix("arn:") else { throw SourceError.invalidSpec("'\(value)' is not a stream ARN (arn:aws:dynamodb:…:table/…/stream/…)") }
            self = .dynamoDBStream(arn: value)
        default:
            throw SourceError.invalidSpec("unknown source kind '\(kind)'; write jsonl:<file>, sqlite:<db>, dynamodb:<table> or dynamodb-stream:<arn>")
        }
    }

    public var description: String {
        switch self {
        case .jsonLines(let path): "jsonl:\(path)"
        case .sqlite(let path): "sqlite:\(path)"
        case .dynamoDBTable(let table): "dynamodb:\(table)"
        case .dynamoDBStream(let arn): "dynamodb-stream:\(arn)"
        }
    }
}
