import AWSClients
import Foundation
import Testing
import TestSupport

/// What `restore --to -` prints, fed to the aws CLI installed here (`aws dynamodb put-item --item file://…`) against
/// moto: what `restore --help` and the README say of aws CLI v1 and v2.
@Suite struct AWSCLIRestoreTests {
    /// Runs a program found on the PATH; returns its exit status, standard output and standard error.
    static func run(_ arguments: [String], environment: [String: String], in directory: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let out = directory + "/.out-\(UUID().uuidString.prefix(8))"
        let err = directory + "/.err-\(UUID().uuidString.prefix(8))"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "", (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// The binary values of an item as boto3 reads them back (base64 of the bytes DynamoDB holds).
    static let readBinary = """
        import sys, json, base64, boto3
        item = boto3.client("dynamodb").get_item(TableName=sys.argv[1], Key={"PK": {"S": sys.argv[2]}}, ConsistentRead=True)["Item"]
        print(json.dumps({"B": base64.b64encode(item["blob"]["B"]).decode(), "BS": sorted(base64.b64encode(b).decode() for b in item["blobs"]["BS"])}))
        """

    /// An item's binary values, base64 of the bytes stored; the set sorted.
    struct Binary: Decodable, Equatable {
        var B: String
        var BS: [String]
    }

    static func storedBinary(table: String, key: String, environment: [String: String]) throws -> Binary? {
        let output = try AWSPeer.python(readBinary, arguments: [table, key], environment: environment)
        #expect(output.status == 0, "\(output.stderr)")
        return try? JSONDecoder().decode(Binary.self, from: Data(output.stdout))
    }

    @Test("aws CLI v2 takes restore --to - as it is; v1 encodes binary values again, whatever cli_binary_format says; --to dynamodb: keeps them")
    func awsCLIPutItemOfARestoredItem() async throws {
        let server = try await MotoServer.shared()
        let environment = server.awsEnvironment()
        let folder = TemporaryFolder("aws-cli")
        defer { folder.remove() }
        guard AWSPeer.boto3Available(), let version = try? Self.run(["aws", "--version"], environment: environment, in: folder.path), version.status == 0 else {
            Issue.record("the aws CLI or boto3 is not installed")
            return
        }
        let isVersion1 = (version.stdout + version.stderr).hasPrefix("aws-cli/1.")
        let table = MotoServer.uniqueName("aws-cli")
        try await DynamoDBClient(settings: server.settings()).createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "PK", keyType: "HASH")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S")])

        // An archived deletion whose item holds B and BS values: 00 01 02 ff, and 00 01 and ff.
        let record = #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1705315800,"Keys":{"PK":{"S":"BIN#1"}},"#
            + #""OldImage":{"PK":{"S":"BIN#1"},"blob":{"B":"AAEC/w=="},"blobs":{"BS":["AAE=","/w=="]}},"SequenceNumber":"1"}}"#
        try Data((record + "\n").utf8).write(to: URL(fileURLWithPath: folder("feed.jsonl")))
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        let listed = try await BuiltBinary.run(["ls", "--archive", "archive", "--json"], in: folder.path)
        let entries = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]
        let key = try #require(entries?.first?["key"] as? String, "\(listed.stdout) \(listed.stderr)")
        let printed = try await BuiltBinary.run(["restore", key, "--archive", "archive", "--to", "-"], in: folder.path)
        #expect(printed.status == 0, "\(printed.stderr)")
        try Data(printed.stdout.utf8).write(to: URL(fileURLWithPath: folder("item.json")))

        let exact = Binary(B: "AAEC/w==", BS: ["AAE=", "/w=="].sorted())
        // What v1 stores: the base64 text itself, as bytes.
        let encodedAgain = Binary(B: Data("AAEC/w==".utf8).base64EncodedString(), BS: ["AAE=", "/w=="].map { Data($0.utf8).base64EncodedString() }.sorted())

        let put = try Self.run(["aws", "dynamodb", "put-item", "--table-name", table, "--item", "file://item.json"], environment: environment, in: folder.path)
        #expect(put.status == 0, "\(put.stderr)")
        #expect(try Self.storedBinary(table: table, key: "BIN#1", environment: environment) == (isVersion1 ? encodedAgain : exact), "\(version.stdout)")

        if isVersion1 {
            // v1 reads no setting that would decode them: cli_binary_format is v2's (v1 only warns by it).
            for setting in ["base64", "raw-in-base64-out"] {
                try Data("[default]\ncli_binary_format = \(setting)\n".utf8).write(to: URL(fileURLWithPath: folder("config")))
                var configured = environment
                configured["AWS_CONFIG_FILE"] = folder("config")
                let again = try Self.run(["aws", "dynamodb", "put-item", "--table-name", table, "--item", "file://item.json"], environment: configured, in: folder.path)
                #expect(again.status == 0, "\(again.stderr)")
                #expect(try Self.storedBinary(table: table, key: "BIN#1", environment: environment) == encodedAgain, "cli_binary_format = \(setting)")
            }
            let help = try await BuiltBinary.run(["restore", "--help"]).stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(help.contains("aws CLI v1 base64-encodes binary values (B, BS) a second time") && help.contains("--to dynamodb:<table>"), "\(help)")
        }

        // archiver's own DynamoDB target puts the bytes back as they were.
        var archiverEnvironment = environment
        archiverEnvironment["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
        archiverEnvironment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
        let restored = try await BuiltBinary.run(
            ["restore", key, "--archive", "archive", "--to", "dynamodb:\(table)", "--overwrite"], in: folder.path, environment: archiverEnvironment)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try Self.storedBinary(table: table, key: "BIN#1", environment: environment) == exact)
    }
}
