import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

@Suite("Configuration file: the cleanup section")
struct CleanupConfigurationTests {
    static let example = """
        state: /var/lib/archiver
        cleanup:
          uploads-older-than: 12h
          orphans-older-than: 2d
          dead-letters-older-than: 90d
          sync-jsonl: [/srv/exports/january.jsonl]
          metrics-file: /var/lib/node_exporter/archiver_cleanup.prom
          targets:
            - root: s3://user-content/uploads/
              key-pattern: "*/{sessionId}.*"
              owner: dynamodb:UploadSessions#uploadSessionId
              abort-partial: true
            - root: /srv/app/files
              key-regex: '^([0-9]+)/'
              owner: sqlite:/srv/app/app.db#files#id
              orphans-older-than: 7d
            - root: s3://user-content/tmp/
        """

    @Test func readsTargetsThresholdsAndRetentions() throws {
        let cleanup = try ArchiverConfiguration.parse(Self.example, file: "a.yml").cleanup
        #expect(cleanup.uploadsOlderThan?.seconds == 43_200 && cleanup.orphansOlderThan?.seconds == 172_800)
        #expect(cleanup.deadLettersOlderThan?.seconds == 90 * 86_400 && cleanup.queueCompletedOlderThan == nil)
        #expect(cleanup.syncJSONLines == ["/srv/exports/january.jsonl"])
        #expect(cleanup.targets.count == 3)
        #expect(cleanup.targets[0].location == .s3(bucket: "user-content", prefix: "uploads/"))
        #expect(cleanup.targets[0].keyPattern?.ownerID(in: "2024-01-15/abc.mp4") == "abc")
        #expect(cleanup.targets[0].owner == .dynamoDB(table: "UploadSessions", attribute: "uploadSessionId"))
        #expect(cleanup.targets[0].abortPartial == true)
        #expect(cleanup.targets[1].keyPattern?.form == .regex && cleanup.targets[1].orphansOlderThan?.seconds == 7 * 86_400)
        #expect(cleanup.targets[2].keyPattern == nil && cleanup.targets[2].owner == nil)
    }

    @Test func checkPrintsEverySettingWithItsDefault() throws {
        let described = try ArchiverConfiguration.parse(Self.example, file: "a.yml").described
        let cleanup = try #require(described["cleanup"])
        #expect(cleanup["queue-completed-older-than"] == .string("off (completed entries are kept)"))
        #expect(cleanup["dry-run"] == .bool(false))
        guard case .array(let targets)? = cleanup["targets"] else { Issue.record("no targets"); return }
        #expect(targets[1]["uploads"] == .bool(false), "a folder has no multipart uploads")
        #expect(targets[1]["uploads-older-than"] == .string("12h") && targets[1]["orphans-older-than"] == .string("7d"))
        #expect(targets[2]["abort-partial"] == .bool(false) && targets[0]["abort-partial"] == .bool(true))
        #expect(try ArchiverConfiguration.parse("", file: "e.yml").described["cleanup"]?["uploads-older-than"] == .string("24h"))
    }

    @Test(arguments: [
        ("cleanup:\n  targets:\n    - root: s3://b/p/\n      key-pattern: '*/{id}.*'\n", "a key pattern needs an owner", 3),
        ("cleanup:\n  targets:\n    - root: s3://b/p/\n      owner: dynamodb:t\n", "owner needs a key-pattern", 3),
        ("cleanup:\n  targets:\n    - root: s3://b/p/\n      owner: dynamodb:t\n      key-pattern: '{a}/{b}'\n      key-regex: '(x)'\n", "not both", 3),
        ("cleanup:\n  targets:\n    - root: s3://b/p/\n      key-pattern: '{date}/{id}.{ext}'\n      owner: dynamodb:t\n", "3 holes", 4),
        ("cleanup:\n  targets:\n    - root: s3://b/p/\n      owner: mysql:t\n      key-pattern: '{id}'\n", "not an owner table", 4),
        ("cleanup:\n  targets:\n    - root: \"null:\"\n", "holds nothing to clean", 3),
        ("cleanup:\n  targets:\n    - root: s3://b/p/\n      onwer: dynamodb:t\n", "did you mean 'owner'?", 4),
        ("cleanup:\n  orphans-older-than: soon\n", "is not a duration", 2),
        ("cleanup:\n  targets:\n    - root: s3://b/p\n    - root: s3://b/p/\n", "listed twice", 2),
        ("cleanup:\n  dead-leters-older-than: 9d\n", "did you mean 'dead-letters-older-than'?", 2),
    ])
    func mistakesAreRefusedWithTheirLine(text: String, message: String, line: Int) {
        let error = #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.parse(text, file: "c.yml") }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
        #expect(error?.line == line, "\(String(describing: error))")
    }

    @Test func theExampleFileIsValid() throws {
        let file = PackagePaths.fixture("config/cleanup.yml")
        let configuration = try ArchiverConfiguration.load(path: file)
        #expect(!configuration.cleanup.targets.isEmpty)
        #expect(configuration.cleanup.targets.allSatisfy { $0.keyPattern != nil })
    }
}
