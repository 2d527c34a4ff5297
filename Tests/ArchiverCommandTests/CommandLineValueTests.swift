import ArchiverCore
import ArgumentParser
import Foundation
import Testing
@testable import archiver

/// The values of `--archive`, `--source`, `--to`, `--now`, … read once, when the command line is parsed.
@Suite struct CommandLineValueTests {
    /// The message ArgumentParser prints for arguments that do not parse.
    static func message(_ arguments: [String]) -> String? {
        do {
            _ = try Archiver.parseAsRoot(arguments)
            return nil
        } catch {
            return Archiver.message(for: error)
        }
    }

    @Test func optionsArriveTyped() throws {
        let tail = try #require(try Archiver.parseAsRoot(["tail", "--source", "sqlite:app.db", "--archive", "s3://b/p", "--once"]) as? Archiver.Tail)
        #expect(try tail.source.value("--source") == .sqlite(path: "app.db"))
        #expect(try tail.archive.named(ArchiverConfiguration())?.location == .s3(bucket: "b", prefix: "p/"))

        let restore = try #require(try Archiver.parseAsRoot(["restore", "--prefix", "2024/01", "--archive", "a", "--to", "sqlite:app.db#users"]) as? Archiver.Restore)
        #expect(try restore.to.value("--to") == .sqlite(database: "app.db", table: "users"))
        #expect(try restore.prefix?.value("--prefix").description == "2024/01")
        #expect(try restore.archive.location == .folder("a"))

        let plan = try #require(try Archiver.parseAsRoot(["lifecycle", "plan", "--archive", "s3://b", "--now", "2031-01-01"]) as? Archiver.Lifecycle.Plan)
        #expect(try plan.lifecycle.day == LifecycleDay(parsing: "2031-01-01"))
        #expect(try plan.transitionDefaultMinimumObjectSize.value("x") == .allStorageClasses128K)

        let sync = try #require(try Archiver.parseAsRoot(["sync", "2024-02", "out", "--archive", "null:"]) as? Archiver.Sync)
        #expect(try sync.month.value("month").description == "2024-02")
        #expect(try sync.archive.location == .null)
    }

    @Test("a value that cannot be read is refused in validate(), saying which option, what is wrong and what to write")
    func badValuesSayWhatToWrite() {
        let cases: [([String], String)] = [
            (["tail", "--source", "kafka:x", "--archive", "a"], "--source: unknown source kind 'kafka'; write jsonl:<file>"),
            (["tail", "--source", "jsonl:", "--archive", "a"], "--source: 'jsonl:' names no file"),
            (["ls", "--archive", "s3:///x"], "--archive: 's3:///x' names no bucket"),
            (["restore", "k", "--archive", "a", "--to", "sqlite:#users"], "--to: 'sqlite:#users' names no database; write sqlite:<db>#<table>, e.g. sqlite:app.db#users"),
            (["restore", "k", "--archive", "a", "--to", "sqlite:app.db#"], "--to: 'sqlite:app.db#' names no table; write sqlite:<db>#<table>, e.g. sqlite:app.db#users"),
            (["restore", "k", "--archive", "a", "--to", "dynamodb:"], "--to: 'dynamodb:' names no table; write dynamodb:<table>"),
            (["restore", "--prefix", "2024-01", "--archive", "a", "--to", "-"], "--prefix: '2024-01' is not a date prefix; write YYYY/MM or YYYY/MM/DD"),
            (["sync", "2024-1", "out", "--archive", "a"], "month: '2024-1' is not a month; write YYYY-MM, e.g. 2024-01"),
            (["ls", "--archive", "a", "--month", "24-01"], "--month: '24-01' is not a month; write YYYY-MM"),
            (["ls", "--archive", "a", "--date", "2024-01-32"], "--date: \"2024-01-32\" is not a day; write the day as YYYY-MM-DD"),
            (["lifecycle", "plan", "--archive", "s3://b", "--now", "tomorrow"], "--now: \"tomorrow\" is not a day"),
            (["lifecycle", "plan", "--archive", "s3://b", "--transition-default-minimum-object-size", "x"], "is not a setting; use all_storage_classes_128K or varies_by_storage_class"),
            (["tail", "--source", "jsonl:f", "--archive", "s3://b", "--sse", "aes128"], "--sse: 'aes128' is not a server-side encryption; use AES256 or aws:kms"),
            (["tail", "--source", "jsonl:f", "--archive", "a", "--sse", "AES256"], "--sse applies to s3:// archives; 'a' is not one"),
        ]
        for (arguments, expected) in cases {
            let message = Self.message(arguments)
            #expect(message?.contains(expected) == true, "\(arguments): \(message ?? "parsed")")
        }
        // A reason that names the option already is not prefixed with it again.
        #expect(Self.message(["ls", "--archive", ""]) == "--archive is empty; give a folder, s3://bucket[/prefix] or null:")
    }

    @Test func restoreTargetsReadBack() throws {
        for text in ["-", "sqlite:app.db#users", "sqlite:a#b#c", "dynamodb:users"] {
            #expect(try RestoreTargetSpec(text).description == text)
        }
        #expect(try RestoreTargetSpec("sqlite:a#b#c") == .sqlite(database: "a#b", table: "c"))
        #expect(try RestoreTargetSpec("-").isStandardOutput)
        #expect(throws: RestoreError.self) { try RestoreTargetSpec("sqlite:") }
    }

    @Test func shellWordsAreQuotedOnlyWhenTheyMustBe() {
        #expect(shellQuoted("2024/01/15/a.b-c_d:e@f=g+h,i") == "2024/01/15/a.b-c_d:e@f=g+h,i")
        #expect(shellQuoted("-") == "-")
        #expect(shellQuoted("USER#1") == "'USER#1'")
        #expect(shellQuoted("it's") == #"'it'\''s'"#)
        #expect(shellQuoted("") == "''")
        #expect(shellQuoted("a b") == "'a b'")
    }
}
