import AWSClients
import ArchiverCore
import Foundation
import Testing
import TestSupport

/// The built `archiver` tailing a moto table's stream through the fault proxy, which expires iterators and
/// answers that a shard's records were trimmed (moto itself never does either). Lineage, splits mid-tail and
/// shards trimmed away are covered against the fake shard graph in DynamoDBStreamsSourceTests.
@Suite("archiver on a DynamoDB stream with faults", .serialized)
struct StreamFaultTests {
    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test func expiredIteratorsAreRenewedAndATrimmedShardIsReportedLoudlyAndRecordedAsAGap() async throws {
        let server = try await MotoServer.shared()
        let dynamo = DynamoDBClient(settings: server.settings())
        let table = MotoServer.uniqueName("stream-faults")
        try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "PK", keyType: "HASH")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "PK", attributeType: "S")], streamViewType: "NEW_AND_OLD_IMAGES")
        func putAndDelete(_ names: [String]) async throws {
            for name in names {
                try await dynamo.putItem(table: table, itemJSON: Array(#"{"PK":{"S":"\#(name)"},"v":{"N":"1"}}"#.utf8))
                try await dynamo.deleteItem(table: table, keyJSON: Array(#"{"PK":{"S":"\#(name)"}}"#.utf8))
            }
        }
        let proxy = try FaultProxy(frontOf: server)
        defer { proxy.stop() }
        var environment = proxy.awsEnvironment()
        // Foundation on Linux cannot read /dev/null as a file (awsEnvironment's choice); name files that do not exist instead.
        environment["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
        let folder = TemporaryFolder("stream-faults")
        defer { folder.remove() }
        let arguments = ["tail", "--source", "dynamodb:\(table)", "--archive", "archive", "--state", "state", "--once", "--json"]

        // First run: two expired iterators on the way; every deletion archived, no gap.
        try await putAndDelete(["A", "B", "C"])
        try await proxy.setFaults([:], expireNext: 2)
        let first = try await BuiltBinary.run(arguments, in: folder.path, environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(Self.json(first.stdout)["archived"] as? Int == 3, "\(first.stdout)")
        #expect(Self.json(first.stdout)["gaps"] as? Int == 0)
        #expect(first.stderr.contains("shard iterator expired; making a new one from the checkpoint"), "\(first.stderr)")
        #expect((try await proxy.stats()).faults["expired-iterator"] == 2)
        #expect(StateInspection.gaps(folder("state")).isEmpty)

        // While stopped, the stream "trims" the shard past the checkpoint: said at error level, recorded, in the summary.
        try await putAndDelete(["D", "E"])
        try await proxy.setFaults([:], trimOnce: true)
        let second = try await BuiltBinary.run(arguments, in: folder.path, environment: environment)
        #expect(second.status == 0, "\(second.stderr)")
        let summary = Self.json(second.stdout)
        #expect(summary["gaps"] as? Int == 1, "\(second.stdout)")
        let loud = second.stderr.split(separator: "\n").filter { $0.contains(" error ") && $0.contains("were trimmed from the stream") }
        #expect(loud.count == 1, "\(second.stderr)")
        let gaps = StateInspection.gaps(folder("state"))
        #expect(gaps.count == 1)
        #expect(gaps.first?.partition.hasPrefix("shardId-") == true)
        #expect(gaps.first?.detail.contains("trimmed") == true)
        #expect((try await proxy.stats()).faults["trimmed"] == 1)
        // Read again from the trim horizon: the new deletions archived, the old ones rewritten under the same names.
        let objects = folder.files(under: "archive").filter { $0.hasSuffix(".json.gz") }
        #expect(objects.count == 5, "\(objects)")

        // People see it in the text summary too.
        try await putAndDelete(["F"])
        try await proxy.setFaults([:], trimOnce: true)
        let text = try await BuiltBinary.run(Array(arguments.dropLast()), in: folder.path, environment: environment)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("gaps"), "\(text.stdout)")
        #expect(text.stdout.contains("trimmed from the stream"), "\(text.stdout)")
        #expect(StateInspection.gaps(folder("state")).count == 2)
        #expect(folder.files(under: "archive").filter { $0.hasSuffix(".json.gz") }.count == 6)
    }
}
