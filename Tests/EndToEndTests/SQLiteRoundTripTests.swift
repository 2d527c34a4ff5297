import Foundation
import Testing
import TestSupport

/// Rows deleted from a SQLite table (by hand and by TTL expiry) are archived, restored, and come back
/// equal to the originals in value and type — all through the built binary, as a user would do it.
@Suite struct SQLiteRoundTripTests {
    /// `sqlite3` output of every row with each value's type, in id order.
    func snapshot(_ db: String) throws -> String {
        try shell("sqlite3 -separator '|' '\(db)' \"SELECT id, quote(email), typeof(email), quote(name), typeof(name), quote(balance), typeof(balance), quote(visits), typeof(visits), quote(avatar), typeof(avatar), quote(extra), typeof(extra), quote(expires_at), typeof(expires_at) FROM users ORDER BY id\"")
    }

    @discardableResult
    func shell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.readToEnd()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CommandFailed(command: command) }
        return String(decoding: data, as: UTF8.self)
    }

    struct CommandFailed: Error { let command: String }

    @Test func deletedRowsComeBackEqual() throws {
        let folder = TemporaryFolder("sqlite")
        defer { folder.remove() }
        let db = folder("app.sqlite")
        try FileManager.default.copyItem(atPath: PackagePaths.fixture("app.sqlite"), toPath: db)
        let before = try snapshot(db)
        let rows = Int(try shell("sqlite3 '\(db)' 'SELECT count(*) FROM users'").trimmingCharacters(in: .whitespacesAndNewlines))!
        #expect(rows > 10)

        let initResult = try BuiltBinary.run(["sqlite", "init", db, "--table", "users", "--ttl-column", "expires_at"], in: folder.path)
        #expect(initResult.status == 0, "\(initResult.stderr)")
        // The application deletes some rows by hand; the TTL sweep expires others.
        try shell("sqlite3 '\(db)' 'DELETE FROM users WHERE id % 3 = 0'")
        let expire = try BuiltBinary.run(["sqlite", "expire", db, "--table", "users", "--now", "1800000000"], in: folder.path)
        #expect(expire.status == 0, "\(expire.stderr)")
        // Everything else, too, so the table ends empty.
        try shell("sqlite3 '\(db)' 'DELETE FROM users'")
        #expect(try snapshot(db).isEmpty)

        let tail = try BuiltBinary.run(["tail", "--source", "sqlite:\(db)", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(tail.stdout.utf8)) as! [String: Any]
        #expect(summary["archived"] as? Int == rows)
        #expect((summary["archived_ttl"] as? Int ?? 0) > 0)
        #expect((summary["archived_manual"] as? Int ?? 0) > 0)
        #expect(summary["dead_lettered"] as? Int == 0)

        // Restore every day's deletions into the emptied table.
        let listed = try BuiltBinary.run(["ls", "--archive", "archive", "--json"], in: folder.path)
        let entries = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as! [[String: Any]]
        let days = Set(entries.map { ($0["key"] as! String).split(separator: "/").prefix(3).joined(separator: "/") })
        for day in days {
            let restore = try BuiltBinary.run(["restore", "--prefix", day, "--archive", "archive", "--to", "sqlite:\(db)#users", "--json"], in: folder.path)
            #expect(restore.status == 0, "\(restore.stdout) \(restore.stderr)")
        }
        #expect(try snapshot(db) == before)

        // A second restore refuses to overwrite, and says so.
        let again = try BuiltBinary.run(["restore", entries[0]["key"] as! String, "--archive", "archive", "--to", "sqlite:\(db)#users"], in: folder.path)
        #expect(again.status != 0)
        #expect(again.stderr.contains("--overwrite"))
        let overwrite = try BuiltBinary.run(["restore", entries[0]["key"] as! String, "--archive", "archive", "--to", "sqlite:\(db)#users", "--overwrite"], in: folder.path)
        #expect(overwrite.status == 0, "\(overwrite.stderr)")
        #expect(try snapshot(db) == before)
    }
}
