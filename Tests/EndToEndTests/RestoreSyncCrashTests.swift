import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// SIGKILL `restore --prefix` and `sync` part-way, then run them again: the job completes, nothing twice,
/// no damaged or temporary file left.
extension CrashTests {
    @Test func killedRestoreOfAMonthIntoSQLite() async throws {
        let folder = TemporaryFolder("crash-restore")
        defer { folder.remove() }
        let rows = 3_000
        let app = try CrashAppDatabase.create(folder("app.sqlite"), rows: rows)
        let before = try app.snapshot()
        #expect(try await BuiltBinary.run(["sqlite", "init", app.path, "--table", "users", "--ttl-column", "expires_at"], in: folder.path).status == 0)
        try Shell.check(["sqlite3", app.path, "DELETE FROM users WHERE id % 4 = 0; DELETE FROM users"])
        let tail = try await BuiltBinary.run(["tail", "--source", "sqlite:app.sqlite", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        #expect(try app.count() == 0)

        // The deletions happened just now: restore each month they fall in (one, except at a month's end).
        let months = Set(try KillLoop.listed(.folder(folder("archive")), in: folder).map { String($0.prefix(7)) }).sorted()
        #expect(!months.isEmpty)
        var killed = 0
        var total = 0
        for month in months {
            let restore = ["restore", "--prefix", month, "--archive", "archive", "--to", "sqlite:app.sqlite#users", "--json"]
            killed += try await KillLoop.interrupt(restore, times: Soak.kills(8), pause: 5...100, in: folder)
            let last = try await BuiltBinary.run(restore, in: folder.path)
            // Rows restored before a kill are found there now, which the summary counts (and exits 1 for).
            let summary = try JSONSerialization.jsonObject(with: Data(last.stdout.utf8)) as? [String: Any] ?? [:]
            #expect(summary["failed"] as? Int == 0, "\(last.stdout) \(last.stderr)")
            #expect((summary["restored"] as? Int ?? -1) + (summary["exists"] as? Int ?? -1) == summary["total"] as? Int)
            #expect(!last.stderr.contains("Fatal error"))
            total += summary["total"] as? Int ?? 0
        }
        #expect(total == rows)
        #expect(killed > 0, "no restore was killed while it worked")
        CrashReport.line("restore into SQLite", "\(killed) of \(Soak.kills(8) * months.count) runs killed at work")
        // Exactly the rows there were, with the same values and types: none missing, none twice.
        #expect(try app.snapshot() == before)
        #expect(try Shell.check(["sqlite3", app.path, "PRAGMA integrity_check"]).trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test func killedSyncFromAFolder() async throws {
        let folder = TemporaryFolder("crash-sync")
        defer { folder.remove() }
        _ = try SampleFeed.write(0..<3_000, to: folder("feed.jsonl"))
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        try await Self.syncCase(folder: folder, archive: .folder(folder("archive")), environment: [:])
    }

    @Test func killedSyncFromS3() async throws {
        let server = try await MotoServer.shared()
        let s3 = S3Client(settings: server.settings(), retryPolicy: RetryPolicy(maxAttempts: 2))
        let bucket = MotoServer.uniqueName("crash-sync")
        try await s3.createBucket(bucket)
        let environment = server.binaryEnvironment()
        let folder = TemporaryFolder("crash-sync-s3")
        defer { folder.remove() }
        _ = try SampleFeed.write(0..<2_000, to: folder("feed.jsonl"))
        let archive = ArchiveUnderTest.s3(s3, bucket: bucket, prefix: "svc")
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", archive.spec, "--state", "state", "--once"], in: folder.path, environment: environment)
        #expect(tail.status == 0, "\(tail.stderr)")
        try await Self.syncCase(folder: folder, archive: archive, environment: environment)
    }

    /// Syncs January into `copy` (with `--jsonl`) under kills, then once more to the end, and compares with a clean sync.
    static func syncCase(folder: TemporaryFolder, archive: ArchiveUnderTest, environment: [String: String]) async throws {
        let clean = try await BuiltBinary.run(["sync", "2024-01", "clean-copy", "--archive", archive.spec, "--jsonl", "clean.jsonl"], in: folder.path, environment: environment)
        #expect(clean.status == 0, "\(clean.stderr)")
        let sync = ["sync", "2024-01", "copy", "--archive", archive.spec, "--jsonl", "month.jsonl", "--json"]
        let killed = try await KillLoop.interrupt(sync, times: Soak.kills(8), pause: 5...100, in: folder, environment: environment)
        #expect(killed > 0, "no sync was killed while it worked")
        CrashReport.line("sync from \(archive.spec.hasPrefix("s3:") ? "S3" : "a folder")", "\(killed) of \(Soak.kills(8)) runs killed at work")
        // What a sync killed while writing the JSON-lines file leaves: its temporary file, named for a process now gone.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        try Data("{\"partial\":".utf8).write(to: URL(fileURLWithPath: folder("month.jsonl.tmp-\(gone.processIdentifier)")))

        let last = try await BuiltBinary.run(sync, in: folder.path, environment: environment)
        #expect(last.status == 0, "\(last.stderr)")
        let copy = ArchiveUnderTest.folder(folder("copy"))
        let expected = try await archive.objects().filter { $0.hasPrefix("2024/01/") }
        #expect(expected.count > 100)
        try await CrashChecks.sameAsClean(copy, .folder(folder("clean-copy")), expected: expected.count, folder: folder)
        #expect(try await copy.objects() == expected)
        for name in expected.prefix(50) {
            #expect(try await copy.read(name) == archive.read(name), "\(name)")
        }
        #expect(FileManager.default.contents(atPath: folder("month.jsonl")) == FileManager.default.contents(atPath: folder("clean.jsonl")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty, "temporary files left beside the JSON-lines file: \(leftovers)")
    }
}
