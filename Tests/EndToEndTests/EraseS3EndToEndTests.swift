import AWSClients
import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// `archiver erase --dry-run` on a versioned moto bucket: the manifest names each object's storage class, age and
/// versions, and the early-deletion charge their minimum storage durations imply, per object and in total.
@Suite("archiver erase on S3, end to end")
struct EraseS3EndToEndTests {
    static let configuration = """
        state: state
        rules:
          - name: users
            match: {table: users}
            subject: "{Keys.PK.S|strip-prefix:USER#}"
        """

    @Test func aDryRunEstimatesTheEarlyDeletionChargeOfEachObjectFromListings() async throws {
        let server = try await MotoServer.shared()
        var environment = server.awsEnvironment()
        environment["AWS_CONFIG_FILE"] = "/nonexistent/aws-config"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/aws-credentials"
        let s3 = S3Client(settings: server.settings())
        let bucket = MotoServer.uniqueName("erase-dry")
        try await s3.createBucket(bucket)
        try await s3.putBucketVersioning(bucket: bucket, status: .enabled)
        let folder = TemporaryFolder("erase-s3-e2e")
        defer { folder.remove() }
        try Self.configuration.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        try (0..<12).map { EraseEndToEndTests.line($0) + "\n" }.joined().write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        let tail = try await BuiltBinary.run(
            ["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--archive", "s3://\(bucket)/a", "--once"], in: folder.path, environment: environment)
        #expect(tail.status == 0, "\(tail.stderr)")

        // The subject's six objects: two get a 4 MiB GLACIER version over the STANDARD one, two a DEEP_ARCHIVE one.
        var all: [String] = []
        for try await object in s3.listAllObjects(bucket: bucket, prefix: "a/") { all.append(object.key) }
        let victim = all.filter { $0.contains("USER#victim_") }.sorted()
        try #require(victim.count == 6, "\(all) \(tail.stdout)")
        let big = [UInt8](repeating: 0x61, count: 4 << 20)
        let classes: [String: S3StorageClass] = [victim[0]: .glacier, victim[1]: .glacier, victim[2]: .deepArchive, victim[3]: .deepArchive]
        for (key, storageClass) in classes { try await s3.putObject(bucket: bucket, key: key, body: big, storageClass: storageClass) }
        var listed: [String: [S3ObjectVersion]] = [:]
        for try await version in s3.listAllObjectVersions(bucket: bucket, prefix: "a/") { listed[version.key, default: []].append(version) }

        let dry = try await BuiltBinary.run(
            ["erase", "--subject", "victim", "--dry-run", "--json", "--config", "archiver.yml", "--archive", "s3://\(bucket)/a"], in: folder.path, environment: environment)
        #expect(dry.status == 0, "\(dry.stderr)")
        let manifest = try JSONValue.parse(dry.stdout)
        guard case .array(let objects)? = manifest["objects"]?["objects"] else { Issue.record("no objects in \(dry.stdout)"); return }
        #expect(objects.count == 6)
        let now = Date()
        var total = 0.0
        for object in objects {
            let key = "a/" + (object["key"]?.stringValue ?? "")
            let versions = try #require(listed[key])
            let expected = versions.map { EarlyDeletion.charge(storageClass: $0.storageClass, size: $0.size, since: $0.lastModified ?? now, now: now) }.reduce(0, +)
            total += expected
            let charge = Double(object["early_deletion_usd"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? "") ?? -1
            #expect(abs(charge - expected) < 0.000002, "\(key): \(charge) vs \(expected)")
            #expect(object["versions"] == .integer(versions.count))
            #expect(object["storage_class"]?.stringValue == (classes[key]?.rawValue ?? "STANDARD"), "\(key)")
            if classes[key] != nil { #expect(charge > 0, "\(key) is charged for its early deletion") } else { #expect(charge == 0) }
        }
        let estimated = Double(manifest["estimate"]?["early_deletion_usd"].flatMap { if case .number(let n) = $0 { n } else { nil } } ?? "") ?? -1
        #expect(abs(estimated - total) < 0.00001 && estimated > 0, "\(estimated) vs \(total)")
        #expect(manifest["objects"]?["by_storage_class"]?["GLACIER"] == .integer(2))
        #expect(manifest["objects"]?["by_storage_class"]?["DEEP_ARCHIVE"] == .integer(2))
        #expect(manifest["objects"]?["by_storage_class"]?["STANDARD"] == .integer(6))

        let text = try await BuiltBinary.run(
            ["erase", "--subject", "victim", "--dry-run", "--config", "archiver.yml", "--archive", "s3://\(bucket)/a"], in: folder.path, environment: environment)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("early deletion") && text.stdout.contains("DEEP_ARCHIVE") && text.stdout.contains("GLACIER"), "\(text.stdout)")
        var after: [String: Int] = [:]
        for try await version in s3.listAllObjectVersions(bucket: bucket, prefix: "a/") { after[version.key, default: 0] += 1 }
        #expect(after == listed.mapValues(\.count), "a dry run changes nothing")
    }
}
