import ArchiverCore
/// A problem with an application's SQLite database or its archiver change table. Says what to do.
public struct SQLiteArchiveError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem, for code that needs to tell them apart.
    public enum Kind: String, Sendable, Equatable {
        /// No file at the database path.
        case noDatabase
        /// The file is not a SQLite database, or cannot be opened.
        case cannotOpen
        /// The database has no such table (or it is a view, a virtual table, or one of archiver's own).
        case noTable
        /// The table cannot be watched as it is (no usable key).
        case unsupportedTable
        /// The database has no archiver change table: `archiver sqlite init` has not been run.
        case noChangeTable
        /// The table is not set up for archiving, or has no TTL column configured.
        case notConfigured
        /// A column named on the command line does not exist.
        case noColumn
        /// A checkpoint that this source did not write.
        case badCheckpoint
        /// SQLite refused an operation.
        case sqlite
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
