import Foundation

/// Where `cleanup` asks whether the item owning an object still exists: one table, looked up by one key.
///
/// Implementations: a DynamoDB table (ArchiverAWS) and a SQLite table (ArchiverSQLite); one conformance suite
/// (`OwnerLookupConformance` in TestSupport) runs against both.
public protocol OwnerLookup: Sendable {
    /// The table looked in, for people: `dynamodb:UploadSessions#uploadSessionId`, `sqlite:/srv/app.db#files#id`.
    var description: String { get }

    /// Whether an item whose key is `id` exists now. The comparison is exact (case, Unicode form and all).
    ///
    /// Called concurrently, many times a run.
    /// - Throws: when the lookup cannot tell (the table is missing, the service unreachable, access denied, a
    ///   value of the wrong type): the caller then keeps the object, as if the owner existed. Never answers
    ///   `false` on doubt.
    func ownerExists(_ id: String) async throws -> Bool
}

/// An owner table as written on the command line or in the configuration file.
///
/// - `dynamodb:<table>[#<attribute>]`: a DynamoDB table whose key is the one attribute (its partition key when
///   not named; the table must have no sort key).
/// - `sqlite:<db>#<table>#<column>`: a table of a SQLite database, looked up by one column.
public enum OwnerSpec: Sendable, Equatable, CustomStringConvertible {
    case dynamoDB(table: String, attribute: String?)
    case sqlite(database: String, table: String, column: String)

    /// Reads an owner table.
    /// - Throws: `OwnerSpecError` saying what to write.
    public init(_ text: String) throws {
        if text.hasPrefix("dynamodb:") {
            let rest = text.dropFirst("dynamodb:".count)
            let parts = rest.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
            let table = String(parts[0])
            guard !table.isEmpty else { throw OwnerSpecError("'\(text)' names no table; write dynamodb:<table> or dynamodb:<table>#<key attribute>") }
            let attribute = parts.count > 1 ? String(parts[1]) : nil
            if attribute?.isEmpty == true {
                throw OwnerSpecError("'\(text)' names no key attribute after '#'; write dynamodb:<table>#<key attribute>, or leave out #… to use the table's partition key")
            }
            self = .dynamoDB(table: table, attribute: attribute)
        } else if text.hasPrefix("sqlite:") {
            // The database path may hold '#'; the table and column are the last two parts.
            let parts = text.dropFirst("sqlite:".count).split(separator: "#", omittingEmptySubsequences: false)
            guard parts.count >= 3 else {
                throw OwnerSpecError("'\(text)' needs a table and a column; write sqlite:<db>#<table>#<column>")
            }
            let database = parts.dropLast(2).joined(separator: "#")
            let table = String(parts[parts.count - 2])
            let column = String(parts[parts.count - 1])
            guard !database.isEmpty, !table.isEmpty, !column.isEmpty else {
                throw OwnerSpecError("'\(text)' leaves the database, the table or the column empty; write sqlite:<db>#<table>#<column>")
            }
            self = .sqlite(database: database, table: table, column: column)
        } else {
            throw OwnerSpecError("'\(text)' is not an owner table; write dynamodb:<table>[#<key attribute>] or sqlite:<db>#<table>#<column>")
        }
    }

    public var description: String {
        switch self {
        case .dynamoDB(let table, let attribute): "dynamodb:\(table)" + (attribute.map { "#\($0)" } ?? "")
        case .sqlite(let database, let table, let column): "sqlite:\(database)#\(table)#\(column)"
        }
    }
}

/// An owner table that cannot be read from its text.
public struct OwnerSpecError: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
