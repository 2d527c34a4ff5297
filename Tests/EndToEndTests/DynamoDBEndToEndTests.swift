import AWSClients
import ArchiverAWS
import ArchiverCore
import Foundation
import Testing
import TestSupport
import JSONToolkit

/// The built `archiver` against moto: tail a table's stream into a folder, restore into the table, check with boto3.
@Suite struct DynamoDBEndToEndTests {
    /// Items of every attribute type, keyed PK (HASH) and SK (RANGE).
    static let items: [String] = [
        #"{"PK":{"S":"USER#1"},"SK":{"S":"PROFILE"},"name":{"S":"Ada ☃"},"big":{"N":"12345678901234567890123456789012345678"},"neg":{"N":"-0.5"},"ok":{"BOOL":true},"none":{"NULL":true},"blob":{"B":"AAEC/w=="},"tags":{"SS":["a","b"]},"nums":{"NS":["1","2.5"]},"blobs":{"BS":["AQ==","Ag=="]},"m":{"M":{"inner":{"L":[{"S":"x"},{"N":"7"},{"M":{}}]}}},"l":{"L":[]}}"#,
        #"{"PK":{"S":"USER#2"},"SK":{"S":"PROFILE"},"count":{"N":"99999999999999999999999999999999999999"},"flag":{"BOOL":false}}"#,
        #"{"PK":{"S":"USER#3"},"SK":{"S":"ORDER#1"},"total":{"N":"10.25"}}"#,
    ]

    static let compareScript = """
        import sys, json, base64, boto3
        table = sys.argv[1]
        expected = json.loads(sys.stdin.read())
        def norm(v):
            (t, x), = v.items()
            if t == "B": return ("B", bytes(x) if isinstance(x, (bytes, bytearray)) else base64.b64decode(x))
            if t == "BS": return ("BS", sorted(bytes(b) if isinstance(b, (bytes, bytearray)) else base64.b64decode(b) for b in x))
            if t in ("SS", "NS"): return (t, sorted(x))
            if t == "M": return ("M", {k: norm(w) for k, w in x.items()})
            if t == "L": return ("L", [norm(w) for w in x])
            return (t, x)
        client = boto3.client("dynamodb")
        bad = 0
        for item in expected:
            got = client.get_item(TableName=table, Key={"PK": item["PK"], "SK": item["SK"]}, ConsistentRead=True).get("Item")
            if got is None:
                print("missing", item["PK"]); bad += 1; continue
            a = {k: norm(v) for k, v in item.items()}
            b = {k: norm(v) for k, v in got.items()}
            if a != b:
                print("differs", item["PK"], a, b); bad += 1
        print("checked", len(expected))
        sys.exit(1 if bad else 0)
        """

    @Test func tailArchivesEachDeletedItemAndRestorePutsItBack() async throws {
        let server = try await MotoServer.shared()
        guard AWSPeer.boto3Available() else {
            Issue.record("boto3 is not installed")
            return
        }
        var env = server.awsEnvironment()
        // Foundation on Linux cannot read /dev/null as a file (awsEnvironment's choice); name files that do not exist instead.
        env["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
        env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
        let dynamo = DynamoDBClient(settings: server.settings())
        let table = MotoServer.uniqueName("e2e-streams")
        try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "PK", keyType: "HASH"), DynamoDBKeyElement(attributeName: "SK", keyType: "RANGE")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S"), DynamoDBAttributeDefinition(attributeName: "SK", attributeType: "S")],
            streamViewType: "NEW_AND_OLD_IMAGES")
        // Insert, modify, then delete every item; one more item stays.
        try await dynamo.putItem(table: table, itemJSON: Array(#"{"PK":{"S":"USER#1"},"SK":{"S":"PROFILE"},"name":{"S":"old"}}"#.utf8))
        for item in Self.items { try await dynamo.putItem(table: table, itemJSON: Array(item.utf8)) }
        try await dynamo.putItem(table: table, itemJSON: Array(#"{"PK":{"S":"KEEP"},"SK":{"S":"ME"}}"#.utf8))
        let keys = try Self.items.map { text -> String in
            let item = try Item(dynamoJSON: try JSONValue.parse(text))
            return Item(item.attributes.filter { $0.0 == "PK" || $0.0 == "SK" }).dynamoJSON.serialized
        }
        for key in keys { try await dynamo.deleteItem(table: table, keyJSON: Array(key.utf8)) }

        let folder = TemporaryFolder("e2e-dynamodb")
        defer { folder.remove() }
        let tail = try await BuiltBinary.run(
            ["tail", "--source", "dynamodb:\(table)", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path, environment: env)
        #expect(tail.status == 0, "\(tail.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(tail.stdout.utf8)) as? [String: Any]
        #expect(summary?["archived"] as? Int == Self.items.count, "\(tail.stdout)")
        #expect(summary?["dead_lettered"] as? Int == 0)

        let objects = folder.files(under: "archive").filter { $0.hasSuffix(".gz") }
        #expect(objects.count == Self.items.count, "\(objects)")
        var prefix = ""
        for object in objects {
            let record = try gunzip(Array(try Data(contentsOf: URL(fileURLWithPath: folder("archive/" + object)))))
            let scanned = try RecordScanner().scan(record)
            #expect(scanned.eventName == .remove)
            #expect(scanned.hasOldImage)
            // The object is the record as the stream sent it; its OldImage is the deleted item, whole.
            let parsed = try JSONValue.parse(String(decoding: record, as: UTF8.self))
            let oldImage = try Item(dynamoJSON: try #require(parsed["dynamodb"]?["OldImage"]))
            let original = try Self.items.map { try Item(dynamoJSON: try JSONValue.parse($0)) }.first { $0["PK"] == oldImage["PK"] && $0["SK"] == oldImage["SK"] }
            #expect(oldImage == original, "\(object)")
            prefix = String(object.prefix(10))
        }
        // Resuming archives nothing twice.
        let again = try await BuiltBinary.run(
            ["tail", "--source", "dynamodb:\(table)", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path, environment: env)
        #expect(again.status == 0, "\(again.stderr)")
        #expect((try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])?["archived"] as? Int == 0, "\(again.stdout)")

        // Restore into the emptied table.
        let restore = try await BuiltBinary.run(["restore", "--prefix", prefix, "--archive", "archive", "--to", "dynamodb:\(table)"], in: folder.path, environment: env)
        #expect(restore.status == 0, "\(restore.stdout)\n\(restore.stderr)")
        let expected = "[" + Self.items.joined(separator: ",") + "]"
        let check = try AWSPeer.python(Self.compareScript, arguments: [table], environment: env, input: Array(expected.utf8))
        #expect(check.status == 0, "\(String(decoding: check.stdout, as: UTF8.self)) \(check.stderr)")

        // A second restore finds them there; --overwrite replaces them.
        let second = try await BuiltBinary.run(["restore", "--prefix", prefix, "--archive", "archive", "--to", "dynamodb:\(table)"], in: folder.path, environment: env)
        #expect(second.status != 0)
        #expect((second.stdout + second.stderr).contains("exists"), "\(second.stdout)\n\(second.stderr)")
        let dry = try await BuiltBinary.run(
            ["restore", "--prefix", prefix, "--archive", "archive", "--to", "dynamodb:\(table)", "--dry-run"], in: folder.path, environment: env)
        #expect(dry.status != 0, "a dry run reports the items as there")
        let overwrite = try await BuiltBinary.run(
            ["restore", "--prefix", prefix, "--archive", "archive", "--to", "dynamodb:\(table)", "--overwrite"], in: folder.path, environment: env)
        #expect(overwrite.status == 0, "\(overwrite.stdout)\n\(overwrite.stderr)")
        let recheck = try AWSPeer.python(Self.compareScript, arguments: [table], environment: env, input: Array(expected.utf8))
        #expect(recheck.status == 0, "\(String(decoding: recheck.stdout, as: UTF8.self)) \(recheck.stderr)")
    }

    @Test func restoreIntoAMissingTableSaysSo() async throws {
        let server = try await MotoServer.shared()
        let target = DynamoDBRestoreTarget(table: MotoServer.uniqueName("missing"), client: DynamoDBClient(settings: server.settings()))
        do {
            _ = try await target.restore(
                [RestoreItem(archiveKey: "k", keys: [], item: Item([("PK", .s("x"))]))], overwrite: false, dryRun: false)
            Issue.record("restoring into a missing table succeeded")
        } catch {
            #expect("\(error)".contains("no DynamoDB table"))
        }
    }
}
