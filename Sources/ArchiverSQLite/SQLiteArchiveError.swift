import ArchiverCore

/// A problem with an application's SQLite database or its archiver change table. Says what to do.
///
/// Code that must tell problems apart matches ``kind``:
/// ```swift
/// catch let error as SQLiteArchiveError where error.kind == .noChangeTable { … }
/// ```
public struct SQLiteArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem, for code that needs to tell them apart.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case noDatabase, cannotOpen, noTable, unsupportedTable, noChangeTable, notConfigured, noColumn, badCheckpoint, sqlite
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// No file at the database path.
        public static let noDatabase = Kind(.noDatabase)
        /// The file is not a SQLite database, or cannot be opened.
        public static let cannotOpen = Kind(.cannotOpen)
        /// The database has no such table (or it is a view, a virtual table, or one of archiver's own).
        public static let noTable = Kind(.noTable)
        /// The table cannot be watched as it is (no usable key).
        public static let unsupportedTable = Kind(.unsupportedTable)
        /// The database has no archiver change table: `archiver sqlite init` has not been run.
        public static let noChangeTable = Kind(.noChangeTable)
        /// The table is not set up for archiving, or has no TTL column configured.
        public static let notConfigured = Kind(.notConfigured)
        /// A column named on the command line does not exist.
        public static let noColumn = Kind(.noColumn)
        /// A checkpoint that this source did not write.
        public static let badCheckpoint = Kind(.badCheckpoint)
        /// SQLite refused an operation.
        public static let sqlite = Kind(.sqlite)

        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public let kind: Kind
    /// What is wrong, naming the database and table, and what to do.
    public let description: String

    /// A problem of `kind`; `description` names the database and says what to do.
    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
