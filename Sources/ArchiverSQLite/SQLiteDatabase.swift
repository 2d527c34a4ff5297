import ArchiverCore
import Foundation
import GRDB

/// Opens application databases the way archiver needs them: never creating one, waiting politely
/// for the application's writes, and turning SQLite's errors into ones that say what to do.
enum SQLiteDatabase {
    /// How long a statement waits for the application's lock before giving up.
    static let busyTimeout: TimeInterval = 5

    /// The absolute, standardized form of `path` (relative paths are taken from the working folder).
    static func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Opens an existing database.
    /// - Throws: `SQLiteArchiveError` `.noDatabase` when there is no file, `.cannotOpen` when it is not SQLite.
    static func open(_ path: String, readonly: Bool) throws -> DatabaseQueue {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw SQLiteArchiveError(.noDatabase, "no SQLite database at \(path); give the path of the application's existing database file")
        }
        guard !isFolder.boolValue else {
            throw SQLiteArchiveError(.noDatabase, "\(path) is a folder; give the path of the application's SQLite database file")
        }
        var configuration = Configuration()
        configuration.readonly = readonly
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "archiver"
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            // Reading the schema is the first thing that fails on a file that is not a database.
            _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
            return queue
        } catch let error as DatabaseError {
            throw SQLiteArchiveError(.cannotOpen, "cannot open \(path) as a SQLite database: \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// Wraps a SQLite error from work on `path` so that it names the database.
    static func describe(_ error: any Error, path: String) -> any Error {
        if let error = error as? DatabaseError {
            return SQLiteArchiveError(.sqlite, "\(path): \(error.message ?? "\(error.resultCode)")")
        }
        return error
    }

    /// Runs `body` in an IMMEDIATE transaction (the write lock taken up front), committing when it returns.
    static func immediateTransaction<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        var result: T?
        try db.inTransaction(.immediate) {
            result = try body()
            return .commit
        }
        return result!
    }
}
