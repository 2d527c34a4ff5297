import ArchiverCore
import Foundation
import Testing
import TestSupport

/// Errors code decides on carry a kind to match, and their messages say what is wrong and what to do.
@Suite struct TypedErrorTests {
    @Test func aDamagedCheckpointDatabaseIsOfKindDamagedAndNamesTheFile() throws {
        let folder = TemporaryFolder("errors")
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder("state"), withIntermediateDirectories: true)
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: folder("state/archiver.sqlite")))
        let error = try #require(throws: StateError.self) { try CheckpointStore(stateFolder: folder("state")) }
        #expect(error.kind == .damaged)
        #expect(error.description.contains(folder("state/archiver.sqlite")))
        #expect(error.description.contains("Move it aside"))
    }

    @Test func deadLetterLookupsSayWhichProblemItIs() async throws {
        let folder = TemporaryFolder("errors")
        defer { folder.remove() }
        let letters = try DeadLetterFolder(stateFolder: folder("state"))
        let missing = try await #require(throws: StateError.self) { try await letters.entry(id: "abc123") }
        #expect(missing.kind == .noDeadLetter)
        #expect(missing.description == "no dead-letter entry 'abc123' in \(letters.path); `archiver dlq list` shows them")
        let invalid = try await #require(throws: StateError.self) { try await letters.entry(id: "../x") }
        #expect(invalid.kind == .invalidDeadLetterID)
        #expect(invalid.description == "'../x' is not a dead-letter id; `archiver dlq list` shows them")
    }

    @Test func sourceErrorsTellABadSpecFromAnUnreadableFeed() async throws {
        let spec = try #require(throws: SourceError.self) { try SourceSpec("feed.jsonl") }
        #expect(spec.kind == .invalidSpec)
        #expect(spec.description == "'feed.jsonl' is not a source; write jsonl:<file>, sqlite:<db>, dynamodb:<table> or dynamodb-stream:<arn>")
        let folder = TemporaryFolder("errors")
        defer { folder.remove() }
        let source = JSONLinesSource(path: folder("missing.jsonl"))
        let unreadable = try await #require(throws: SourceError.self) {
            for try await _ in source.batches(after: [:], follow: false, stop: StopSignal()) {}
        }
        #expect(unreadable.kind == .unreadable)
        #expect(unreadable.description.contains("check the path given to --source jsonl:"))
    }

    @Test func restoreErrorsTellAMissingObjectFromAnUnreadableOne() async throws {
        let folder = TemporaryFolder("errors")
        defer { folder.remove() }
        let store = try LocalArchiveStore(path: folder("archive"))
        let restorer = ArchiveRestorer(store: store, target: StandardOutputTarget())
        let missing = try await #require(throws: RestoreError.self) { try await restorer.restore(key: "2024/01/15/A.000000.1.manual.json.gz") }
        #expect(missing.kind == .noObject)
        let unreadable = try #require(throws: RestoreError.self) { try ArchiveRestorer.item(fromArchived: Array("plain".utf8), key: "k") }
        #expect(unreadable.kind == .unreadableObject)
        #expect(unreadable.description.hasPrefix("the object k is not a readable archive"))
        let prefix = try await #require(throws: RestoreError.self) { try await restorer.restore(prefix: "2024-01") }
        #expect(prefix.kind == .invalidRequest)
    }
}
