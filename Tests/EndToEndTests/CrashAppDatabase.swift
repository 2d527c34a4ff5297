import Foundation
import TestSupport

/// A SQLite application database for the crash tests: a `users` table of every value type, in WAL mode
/// as applications run it, and a second process that deletes its rows while the tail runs.
struct CrashAppDatabase {
    let path: String

    /// Creates `rows` users; every fifth has an expiry in the past (epoch 1000) and the rest far ahead.
    static func create(_ path: String, rows: Int) throws -> CrashAppDatabase {
        try Shell.check(["sqlite3", path, """
            PRAGMA journal_mode = WAL;
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, name TEXT, balance REAL, avatar BLOB, extra, expires_at INTEGER);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))
            INSERT INTO users SELECT i, 'user' || i || '@example.com', 'Ünïcode ☃ ' || i, i * 1.25 + 0.1, randomblob(16),
                CASE i % 3 WHEN 0 THEN 9007199254740993 + i WHEN 1 THEN 'text' ELSE NULL END,
                CASE WHEN i % 5 = 0 THEN 1000 ELSE 4000000000 END FROM n;
            """])
        return CrashAppDatabase(path: path)
    }

    /// Every row with each value's type, in id order: equal snapshots mean the exact same row set.
    func snapshot() throws -> String {
        try Shell.check(["sqlite3", "-separator", "|", path,
                         "SELECT id, quote(email), quote(name), quote(balance), typeof(balance), quote(avatar), quote(extra), typeof(extra), expires_at FROM users ORDER BY id"])
    }

    func count(_ table: String = "users") throws -> Int {
        Int(try Shell.check(["sqlite3", path, "SELECT count(*) FROM \(table)"]).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// A consistent copy (the WAL folded in), e.g. for a clean run.
    func copy(to destination: String) throws {
        try Shell.check(["sqlite3", path, ".backup '\(destination)'"])
    }

    /// Starts a process that deletes rows in random order, a few per transaction, until `stopFile` appears
    /// or no row is left.
    func startDeleting(until stopFile: String) throws -> Process {
        let script = """
            import os, random, sqlite3, sys, time
            db, stop = sys.argv[1], sys.argv[2]
            con = sqlite3.connect(db, timeout=30, isolation_level=None)
            ids = [r[0] for r in con.execute("SELECT id FROM users")]
            random.shuffle(ids)
            while ids and not os.path.exists(stop):
                n = random.randint(1, 8)
                chunk, ids = ids[:n], ids[n:]
                con.execute("BEGIN IMMEDIATE")
                con.executemany("DELETE FROM users WHERE id = ?", [(i,) for i in chunk])
                con.execute("COMMIT")
                time.sleep(random.uniform(0.005, 0.03))
            con.close()
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, path, stopFile]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }
}
