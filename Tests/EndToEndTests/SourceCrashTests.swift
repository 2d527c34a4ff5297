import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// The kill loop over the other two sources: a SQLite change table that another process keeps adding to,
/// and a DynamoDB Streams stream (moto) whose table the test keeps changing.
extension CrashTests {
    @Test func killedTailOfASQLiteChangeTable() async throws {
        let folder = TemporaryFolder("crash-sqlite")
        defer { folder.remove() }
        let kills = Soak.kills(25)
        let app = try CrashAppDatabase.create(folder("app.sqlite"), rows: max(2_000, kills * 120))
        let setup = try await BuiltBinary.run(["sqlite", "init", app.path, "--table", "users", "--ttl-column", "expires_at"], in: folder.path)
        #expect(setup.status == 0, "\(setup.stderr)")

        // The application deletes rows all along; half-way through, a TTL sweep expires others.
        let stopFile = folder("stop-deleting")
        let deleter = try app.startDeleting(until: stopFile)
        let archive = ArchiveUnderTest.folder(folder("archive"))
        let state = StateUnderTest(path: folder("state"))
        let tail = ["tail", "--source", "sqlite:app.sqlite", "--archive", archive.spec, "--state", "state"]
        let snapshots = try await KillLoop(folder: folder, tail: tail, archive: archive, state: state).run(kills: kills) { kill in
            if kill == kills / 2 {
                let expire = try BuiltBinary.run(["sqlite", "expire", app.path, "--table", "users", "--now", "2000"], in: folder.path)
                #expect(expire.status == 0, "\(expire.stderr)")
            }
        }
        #expect(FileManager.default.createFile(atPath: stopFile, contents: nil))
        deleter.waitUntilExit()
        #expect(deleter.terminationStatus == 0, "the deleting process failed")
        let last = try await BuiltBinary.run(tail + ["--once", "--json"], in: folder.path)
        #expect(last.status == 0, "\(last.stderr)")

        // The clean run reads a copy of the finished change table.
        try app.copy(to: folder("clean.sqlite"))
        let clean = try await BuiltBinary.run(["tail", "--source", "sqlite:clean.sqlite", "--archive", "clean-archive", "--state", "clean-state", "--once"], in: folder.path)
        #expect(clean.status == 0, "\(clean.stderr)")
        let deletions = try app.count("archiver_changes")
        #expect(deletions > kills * 10, "too few deletions while the tail was killed: \(deletions)")
        let cleanArchive = ArchiveUnderTest.folder(folder("clean-archive"))
        try await CrashChecks.sameAsClean(archive, cleanArchive, expected: deletions, folder: folder)
        CrashChecks.sameDeadLetters(state, StateUnderTest(path: folder("clean-state")), expected: 0)
        #expect(try await cleanArchive.objects().contains { $0.hasSuffix(".ttl.json.gz") }, "the TTL sweep recorded no expiry")
        // The checkpoint is the last change-table `seq` taken; an object's sequence number is its `seq`.
        let checked = CrashChecks.checkpointNeverAhead(snapshots, cleanObjects: try await cleanArchive.objects()) { key, checkpoints in
            guard let saved = checkpoints[""].flatMap({ Int64($0) }), let seq = Int64(key.sequence) else { return false }
            return seq <= saved
        }
        #expect(checked > 0, "no checkpoint was saved before a kill: the kills tested nothing")
        CrashReport.line("tail of a SQLite change table", "\(kills) kills, \(deletions) deletions, \(checked) object-after-kill checks against the checkpoint")
    }

    @Test func killedTailOfADynamoDBStream() async throws {
        let server = try await MotoServer.shared()
        let environment = server.binaryEnvironment()
        let dynamo = DynamoDBClient(settings: server.settings())
        let table = MotoServer.uniqueName("crash-streams")
        _ = try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "PK", keyType: "HASH"), DynamoDBKeyElement(attributeName: "SK", keyType: "RANGE")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S"), DynamoDBAttributeDefinition(attributeName: "SK", attributeType: "S")],
            streamViewType: "NEW_AND_OLD_IMAGES")
        let folder = TemporaryFolder("crash-streams")
        defer { folder.remove() }

        // Between kills the application writes items and deletes most of them again (some by their second version).
        var next = 0
        var deletions = 0
        func item(_ i: Int, version: Int) -> String {
            #"{"PK":{"S":"USER#\#(i % 17)"},"SK":{"S":"ITEM#\#(i)/x"},"n":{"N":"\#(i)\#(version).25"},"note":{"S":"héllo ☃ \#(i)"},"blob":{"B":"AAEC"},"tags":{"SS":["a","b"]}}"#
        }
        func key(_ i: Int) -> String { #"{"PK":{"S":"USER#\#(i % 17)"},"SK":{"S":"ITEM#\#(i)/x"}}"# }
        let kills = Soak.kills(25)
        let archive = ArchiveUnderTest.folder(folder("archive"))
        let state = StateUnderTest(path: folder("state"))
        let tail = ["tail", "--source", "dynamodb:\(table)", "--archive", archive.spec, "--state", "state"]
        let loop = KillLoop(folder: folder, tail: tail, archive: archive, state: state, environment: environment, pause: 50...400)
        let snapshots = try await loop.run(kills: kills) { _ in
            let first = next
            for _ in 0..<4 {
                try await dynamo.putItem(table: table, itemJSON: Array(item(next, version: 1).utf8))
                next += 1
            }
            try await dynamo.putItem(table: table, itemJSON: Array(item(first, version: 2).utf8))
            for i in first..<(next - 1) {
                try await dynamo.deleteItem(table: table, keyJSON: Array(key(i).utf8))
                deletions += 1
            }
        }
        let last = try await BuiltBinary.run(tail + ["--once", "--json"], in: folder.path, environment: environment)
        #expect(last.status == 0, "\(last.stderr)")
        let clean = try await BuiltBinary.run(
            ["tail", "--source", "dynamodb:\(table)", "--archive", "clean-archive", "--state", "clean-state", "--once"], in: folder.path, environment: environment)
        #expect(clean.status == 0, "\(clean.stderr)")

        let cleanArchive = ArchiveUnderTest.folder(folder("clean-archive"))
        try await CrashChecks.sameAsClean(archive, cleanArchive, expected: deletions, folder: folder, environment: environment)
        CrashChecks.sameDeadLetters(state, StateUnderTest(path: folder("clean-state")), expected: 0)
        // moto serves one shard; its checkpoint is the last sequence number taken (`closed:<seq>` once finished).
        let checked = CrashChecks.checkpointNeverAhead(snapshots, cleanObjects: try await cleanArchive.objects()) { key, checkpoints in
            checkpoints.values.contains { saved in
                let sequence = saved.hasPrefix("closed:") ? String(saved.dropFirst(7)) : saved
                return !sequence.isEmpty && CrashChecks.sequence(key.sequence, isAtMost: sequence)
            }
        }
        #expect(checked > 0, "no checkpoint was saved before a kill: the kills tested nothing")
        CrashReport.line("tail of a DynamoDB stream", "\(kills) kills, \(deletions) deletions, \(checked) object-after-kill checks against the checkpoint")
    }
}
