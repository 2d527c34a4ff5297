import ArchiverCore
import Foundation
import Testing
import TestSupport

/// Where a record came from, as dead letters and the resume log line say it.
@Suite struct SourcePositionTests {
    static let good = #"{"eventName":"INSERT","dynamodb":{"ApproximateCreationDateTime":1705315800,"Keys":{"PK":{"S":"A"}},"SequenceNumber":"1"}}"#
    static let bad = #"{"eventName":"REMOVE","dynamodb":{"Keys": broken"#

    static func inode(_ path: String) throws -> UInt64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as! NSNumber).uint64Value
    }

    static func append(_ lines: [String], to path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(lines.map { $0 + "\n" }.joined().utf8))
        try handle.close()
    }

    /// Dead letters by id, as `dlq list --json` gives them.
    static func deadLetters(_ folder: TemporaryFolder) throws -> [[String: Any]] {
        let list = try BuiltBinary.run(["dlq", "list", "--state", "state", "--json"], in: folder.path)
        #expect(list.status == 0, "\(list.stderr)")
        return try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
    }

    @Test func deadLettersNameTheFileTheRecordWasReadFromAcrossARotation() throws {
        let folder = TemporaryFolder("rotation-letters")
        defer { folder.remove() }
        let feed = folder("feed.jsonl")
        let rotated = folder("feed.jsonl.1")
        let firstLines = [Self.good, Self.good, Self.bad, Self.good]
        try Self.append(firstLines, to: feed)
        let oldInode = try Self.inode(feed)
        let tail = ["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"]
        let first = try BuiltBinary.run(tail, in: folder.path)
        #expect(first.status == 0, "\(first.stderr)")

        // More lines, one bad (line 6), then logrotate while archiver is stopped; the new file starts with the
        // same lines as the old one, so its line 3 has the same line number, byte and bytes as the old line 3.
        try Self.append([Self.good, Self.bad], to: feed)
        try FileManager.default.moveItem(atPath: feed, toPath: rotated)
        try Self.append(firstLines, to: feed)
        let newInode = try Self.inode(feed)
        let second = try BuiltBinary.run(tail, in: folder.path)
        #expect(second.status == 0, "\(second.stderr)")
        // The resume line says where, in words, and names the rotated file.
        let oldSize = try FileManager.default.attributesOfItem(atPath: rotated)[.size] as! Int
        let firstSize = oldSize - (Self.good.utf8.count + Self.bad.utf8.count + 2)
        #expect(second.stderr.contains("next line 5 (byte \(firstSize)) of \(rotated) (device "), "\(second.stderr)")
        #expect(second.stderr.contains("inode \(oldInode)), rotated from \(feed)"), "\(second.stderr)")
        #expect(!second.stderr.contains(#"["": "#), "\(second.stderr)")

        let letters = try Self.deadLetters(folder)
        #expect(letters.count == 3, "two bad lines at the same place in two files must keep two entries: \(letters)")
        func letter(_ line: Int, inode: UInt64) -> [String: Any]? {
            letters.first { ($0["position"] as? String)?.hasPrefix("line \(line) ") == true && (($0["file"] as? [String: Any])?["inode"] as? NSNumber)?.uint64Value == inode }
        }
        let oldLine3 = try #require(letter(3, inode: oldInode), "\(letters)")
        let oldLine6 = try #require(letter(6, inode: oldInode), "\(letters)")
        let newLine3 = try #require(letter(3, inode: newInode), "\(letters)")
        // Read before the rotation: the name it had then. Read after it, from the rotated file: the rotated name.
        #expect((oldLine3["file"] as? [String: Any])?["path"] as? String == feed)
        #expect((oldLine6["file"] as? [String: Any])?["path"] as? String == rotated)
        #expect((newLine3["file"] as? [String: Any])?["path"] as? String == feed)
        // `dlq show` finds where the old file is now.
        let show = try BuiltBinary.run(["dlq", "show", oldLine3["id"] as! String, "--state", "state"], in: folder.path)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("\(feed) (device ") && show.stdout.contains("inode \(oldInode)), now \(rotated)"), "\(show.stdout)")
    }

    @Test func theResumeLineSaysWhereInWordsForAJSONLinesFile() throws {
        let folder = TemporaryFolder("resume-jsonl")
        defer { folder.remove() }
        let counts = try SampleFeed.write(0..<100, to: folder("feed.jsonl"))
        let size = try FileManager.default.attributesOfItem(atPath: folder("feed.jsonl"))[.size] as! Int
        let tail = ["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"]
        #expect(try BuiltBinary.run(tail, in: folder.path).status == 0)
        let again = try BuiltBinary.run(tail, in: folder.path)
        #expect(again.status == 0, "\(again.stderr)")
        let inode = try Self.inode(folder("feed.jsonl"))
        #expect(again.stderr.contains("resuming after the checkpoint"), "\(again.stderr)")
        #expect(again.stderr.contains("checkpoint.position=next line \(counts.total + 1) (byte \(size)) of \(folder("feed.jsonl")) (device "), "\(again.stderr)")
        #expect(again.stderr.contains("inode \(inode))"), "\(again.stderr)")
        #expect(!again.stderr.contains(#"["": "#), "\(again.stderr)")
    }

    @Test func theResumeLineSaysWhereInWordsForASQLiteChangeTable() throws {
        let folder = TemporaryFolder("resume-sqlite")
        defer { folder.remove() }
        let db = folder("app.sqlite")
        try FileManager.default.copyItem(atPath: PackagePaths.fixture("app.sqlite"), toPath: db)
        #expect(try BuiltBinary.run(["sqlite", "init", db, "--table", "users"], in: folder.path).status == 0)
        #expect(try Shell.run(["sqlite3", db, "DELETE FROM users WHERE id % 3 = 0"]).status == 0)
        let tail = ["tail", "--source", "sqlite:\(db)", "--archive", "archive", "--state", "state", "--once"]
        #expect(try BuiltBinary.run(tail, in: folder.path).status == 0)
        let last = try Shell.run(["sqlite3", db, "SELECT max(seq) FROM archiver_changes"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let again = try BuiltBinary.run(tail, in: folder.path)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.contains("checkpoint.position=after archiver_changes seq \(last) of \(db)"), "\(again.stderr)")
        #expect(!again.stderr.contains(#"["": "#), "\(again.stderr)")
    }
}
