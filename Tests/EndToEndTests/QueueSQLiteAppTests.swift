import Foundation
import Testing
import TestSupport

/// A SQLite application whose rows own files under a local folder: deleting rows (by hand, and by TTL) gets the
/// rows archived and, once they are, their files deleted — through the built binary, as a user runs it.
@Suite("Queue end to end: a SQLite application whose deleted rows own files")
struct QueueSQLiteAppTests {
    static func sqlite(_ database: String, _ sql: String) throws {
        let out = try Shell.run(["sqlite3", database, sql])
        guard out.status == 0 else { throw ShellFailure(description: "sqlite3: \(out.stderr)") }
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func deletedRowsLoseTheirFilesOnlyOnceArchived() throws {
        let folder = TemporaryFolder("queue-sqlite-app")
        defer { folder.remove() }
        let db = folder("app.db")
        try Self.sqlite(db, """
            CREATE TABLE photos (id INTEGER PRIMARY KEY, owner TEXT NOT NULL, path TEXT, expires_at INTEGER);
            CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT);
            """)
        // 60 photos under files/photos/<owner>/<id>.jpg, 3 users with a folder each; one photo's path is hostile.
        var rows: [String] = []
        for id in 1...60 {
            let owner = "u\(id % 3)"
            let path = id == 13 ? "../../outside.jpg" : "photos/\(owner)/\(id).jpg"
            rows.append("(\(id), '\(owner)', '\(path)', \(id % 4 == 0 ? 1_000 : 4_000_000_000))")
            if id != 13 {
                try FileManager.default.createDirectory(atPath: folder("files/photos/\(owner)"), withIntermediateDirectories: true)
                try Data("photo \(id)".utf8).write(to: URL(fileURLWithPath: folder("files/\(path)")))
            }
        }
        try Self.sqlite(db, "INSERT INTO photos VALUES " + rows.joined(separator: ",") + "; INSERT INTO users VALUES ('u0','Ana'),('u1','Bo'),('u2','Cy');")
        for user in ["u0", "u1", "u2"] {
            try FileManager.default.createDirectory(atPath: folder("files/home/\(user)/docs"), withIntermediateDirectories: true)
            try Data("cv".utf8).write(to: URL(fileURLWithPath: folder("files/home/\(user)/docs/cv.pdf")))
            try Data("note".utf8).write(to: URL(fileURLWithPath: folder("files/home/\(user)/note.txt")))
        }
        try Data("secret".utf8).write(to: URL(fileURLWithPath: folder("outside.jpg")))
        for table in ["photos", "users"] {
            let result = try BuiltBinary.run(["sqlite", "init", db, "--table", table] + (table == "photos" ? ["--ttl-column", "expires_at"] : []), in: folder.path)
            #expect(result.status == 0, "\(result.stderr)")
        }
        try """
            state: state
            archive: archive
            roots:
              files: \(folder("files"))
            rules:
              - name: photo-files
                match: {table: photos}
                actions:
                  - delete-object: {root: files, key: "{OldImage.path.S}", keep: true}
              - name: home-folders
                match: {table: users, kind: manual}
                actions:
                  - delete-prefix: {root: files, prefix: "home/{OldImage.id.S}/", min-depth: 2}
            queue:
              backoff: {base: 10ms, max: 50ms}
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        let check = try BuiltBinary.run(["config", "check", "archiver.yml", "--json"], in: folder.path)
        #expect(check.status == 0, "\(check.stderr)")

        // The application deletes photos of u1 and the user u2; the TTL sweep expires every fourth photo.
        try Self.sqlite(db, "DELETE FROM photos WHERE owner = 'u1'; DELETE FROM users WHERE id = 'u2';")
        let expire = try BuiltBinary.run(["sqlite", "expire", db, "--table", "photos"], in: folder.path)
        #expect(expire.status == 0, "\(expire.stderr)")
        let deletedPhotos = Set((1...60).filter { $0 % 3 == 1 || $0 % 4 == 0 })

        // Archived but not yet carried out: nothing is deleted while the entries wait.
        let tail = try BuiltBinary.run(["tail", "--source", "sqlite:app.db", "--config", "archiver.yml", "--once", "--no-queue", "--json"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        let summary = Self.json(tail.stdout)
        #expect(summary["archived"] as? Int == deletedPhotos.count + 1)
        #expect(summary["actions_enqueued"] as? Int == deletedPhotos.count + 1)
        #expect(summary["actions_parked"] as? Int == 1, "the hostile path of photo 13")
        #expect(summary["queue"] == nil)
        #expect(FileManager.default.fileExists(atPath: folder("files/photos/u1/1.jpg")))

        let run = try BuiltBinary.run(["queue", "run", "--config", "archiver.yml", "--once", "--json"], in: folder.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.json(run.stdout)["completed"] as? Int == deletedPhotos.count)

        // Exactly the deleted rows' files are gone; the kept copies sit beside their records.
        for id in 1...60 where id != 13 {
            let path = folder("files/photos/u\(id % 3)/\(id).jpg")
            #expect(FileManager.default.fileExists(atPath: path) == !deletedPhotos.contains(id), "photo \(id)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder("files/home/u2")))
        #expect(folder.files(under: "files/home") == ["u0/docs/cv.pdf", "u0/note.txt", "u1/docs/cv.pdf", "u1/note.txt"])
        #expect(FileManager.default.contents(atPath: folder("outside.jpg")) == Data("secret".utf8))
        let kept = folder.files(under: "archive").filter { $0.contains(".files/files/photos/") }
        #expect(kept.count == deletedPhotos.count - 1)

        // The queue says so.
        let stats = Self.json(try BuiltBinary.run(["queue", "stats", "--config", "archiver.yml", "--json"], in: folder.path).stdout)
        let states = stats["states"] as? [String: Int] ?? [:]
        #expect(states["completed"] == deletedPhotos.count && states["parked"] == 1)
        #expect((stats["errors"] as? [String: Int]) == ["unsafe-target": 1])
        let report = try BuiltBinary.run(["queue", "report", "--failed-only", "--config", "archiver.yml"], in: folder.path)
        let lines = report.stdout.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains(",failed,unsafe-target,") && lines[0].contains("../../outside.jpg"))

        // A photo comes back with its file.
        let key = try #require(kept.first.map { String($0.prefix { $0 != "." } ) })
        let record = try #require(folder.files(under: "archive").first { $0.hasPrefix(key + ".") && $0.hasSuffix(".json.gz") })
        let photo = try #require(record.split(separator: "/").last.flatMap { Int($0.prefix { $0 != "." }) })
        let restore = try BuiltBinary.run(
            ["restore", record, "--archive", "archive", "--to", "sqlite:app.db#photos", "--with-files", "--config", "archiver.yml"], in: folder.path)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(FileManager.default.contents(atPath: folder("files/photos/u\(photo % 3)/\(photo).jpg")) == Data("photo \(photo)".utf8))
    }
}
