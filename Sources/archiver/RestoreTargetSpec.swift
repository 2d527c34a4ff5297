import ArchiverCore

/// Where `restore --to` puts records back: `-` (standard output), `sqlite:<db>#<table>` or `dynamodb:<table>`.
public enum RestoreTargetSpec: Sendable, Equatable, CustomStringConvertible {
    /// Each item printed as DynamoDB JSON, one a line.
    case standardOutput
    case sqlite(database: String, table: String)
    case dynamoDB(table: String)

    /// Reads a `--to` value.
    /// - Throws: `RestoreError` saying what the value lacks and how to write it.
    public init(_ spec: String) throws {
        if spec == "-" {
            self = .standardOutput
        } else if spec.hasPrefix("sqlite:") {
            let rest = spec.dropFirst("sqlite:".count)
            let hash = rest.lastIndex(of: "#")
            let database = hash.map { rest[..<$0] } ?? rest
            let table = hash.map { rest[rest.index(after: $0)...] } ?? ""
            switch (database.isEmpty, table.isEmpty) {
            case (true, true):
                throw RestoreError.invalidRequest("'\(spec)' names no database and no table; write sqlite:<db>#<table>, e.g. sqlite:app.db#users")
            case (true, false):
                throw RestoreError.invalidRequest("'\(spec)' names no database; write sqlite:<db>#<table>, e.g. sqlite:app.db#\(table)")
            case (false, true):
                throw RestoreError.invalidRequest("'\(spec)' names no table; write sqlite:<db>#<table>, e.g. sqlite:\(database)#users")
            case (false, false):
                self = .sqlite(database: String(database), table: String(table))
            }
        } else if spec.hasPrefix("dynamodb:") {
            let table = String(spec.dropFirst("dynamodb:".count))
            guard !table.isEmpty else { throw RestoreError.invalidRequest("'\(spec)' names no table; write dynamodb:<table>") }
            self = .dynamoDB(table: table)
        } else {
            throw RestoreError.invalidRequest("unknown restore target '\(spec)'; write -, sqlite:<db>#<table> or dynamodb:<table>")
        }
    }

    /// Whether the items go to standard output (so nothing else may be printed there).
    public var isStandardOutput: Bool { self == .standardOutput }

    public var description: String {
        switch self {
        case .standardOutput: "-"
        case .sqlite(let database, let table): "sqlite:\(database)#\(table)"
        case .dynamoDB(let table): "dynamodb:\(table)"
        }
    }
}

extension RestoreTargetSpec: CommandLineValue {
    init(commandLine text: String) throws { try self.init(text) }
}
