import AWSClients
import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// `archiver expire` against a DynamoDB table on moto, and what its deletions look like to `archiver tail`.
@Suite("archiver expire, end to end")
struct ExpireEndToEndTests {
    @Test func expiresPassedItemsWhichTheTailArchivesAsManualDeletes() async throws {
        let server = try await MotoServer.shared()
        var environment = server.awsEnvironment()
        environment["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
        let dynamo = DynamoDBClient(settings: server.settings())
        let table = MotoServer.uniqueName("e2e-expire")
        try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "uploadSessionId", keyType: "HASH")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "uploadSessionId", attributeType: "S")],
            streamViewType: "NEW_AND_OLD_IMAGES")
        let now = Int(Date().timeIntervalSince1970)
        let sessions: [(String, Int, String)] = [
            ("expired-created", now - 3600, "created"), ("expired-partial", now - 60, "partial"), ("expired-uploaded", now - 3600, "uploaded"),
            ("fresh", now + 3600, "created"),
        ]
        for (id, ttl, status) in sessions {
            try await dynamo.putItem(table: table, itemJSON: Array(#"{"uploadSessionId":{"S":"\#(id)"},"ttl":{"N":"\#(ttl)"},"status":{"S":"\#(status)"}}"#.utf8))
        }
        let folder = TemporaryFolder("e2e-expire")
        defer { folder.remove() }
        func remaining() async throws -> [String] {
            var ids: [String] = []
            for try await item in dynamo.scanAll(table: table, projection: ["uploadSessionId"]) {
                let value = try #require(try RawJSON.member("uploadSessionId", of: item))
                ids.append(try RawJSON.string(item, in: try #require(try RawJSON.objectMembers(item, in: value).first).value))
            }
            return ids.sorted()
        }

        let dry = try await BuiltBinary.run(
            ["expire", "dynamodb:\(table)", "--ttl-attribute", "ttl", "--where", "status!=uploaded", "--dry-run"], in: folder.path, environment: environment)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("would expire  uploadSessionId=expired-created  (ttl \(now - 3600))"), "\(dry.stdout)")
        #expect(dry.stdout.contains("would expire  uploadSessionId=expired-partial"))
        #expect(!dry.stdout.contains("expired-uploaded") && !dry.stdout.contains("uploadSessionId=fresh"))
        #expect(try await remaining().count == 4, "a dry run deleted items")

        let real = try await BuiltBinary.run(
            ["expire", "dynamodb:\(table)", "--ttl-attribute", "ttl", "--where", "status!=uploaded", "--json", "--metrics-file", "expire.prom"],
            in: folder.path, environment: environment)
        #expect(real.status == 0, "\(real.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(real.stdout.utf8)) as? [String: Any])
        #expect(summary["items_expired"] as? Int == 2 && summary["items_renewed"] as? Int == 0 && summary["errors"] as? Int == 0, "\(real.stdout)")
        #expect(summary["items_scanned"] as? Int == 4)
        #expect(try await remaining() == ["expired-uploaded", "fresh"])
        let metrics = try String(contentsOfFile: folder("expire.prom"), encoding: .utf8)
        #expect(metrics.contains("\narchiver_expire_items_expired_total 2\n"), "\(metrics)")

        // The stream holds the deletions as any REMOVE by a caller: the tail archives them as manual, not TTL.
        let tail = try await BuiltBinary.run(
            ["tail", "--source", "dynamodb:\(table)", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path, environment: environment)
        #expect(tail.status == 0, "\(tail.stderr)")
        let tailed = try #require(try JSONSerialization.jsonObject(with: Data(tail.stdout.utf8)) as? [String: Any])
        #expect(tailed["archived"] as? Int == 2 && tailed["archived_manual"] as? Int == 2 && tailed["archived_ttl"] as? Int == 0, "\(tail.stdout)")
        #expect(folder.files(under: "archive").allSatisfy { $0.hasSuffix(".manual.json.gz") })
    }

    @Test(arguments: [
        (["sqlite:app.db#sessions", "--ttl-attribute", "ttl"], "archiver sqlite expire"),
        (["sessions", "--ttl-attribute", "ttl"], "write dynamodb:<table>"),
        (["dynamodb:sessions", "--ttl-attribute", "ttl", "--where", "status"], "not a condition"),
        (["dynamodb:sessions", "--ttl-attribute", ""], "--ttl-attribute needs"),
    ])
    func badCommandLinesAreRefused(arguments: [String], message: String) throws {
        let result = try BuiltBinary.run(["expire"] + arguments)
        #expect(result.status != 0)
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
