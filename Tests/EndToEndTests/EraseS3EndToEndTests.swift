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

        // Through a proxy that counts requests: listings only, no request per object.
        let proxy = try FaultProxy(frontOf: server)
        defer { proxy.stop() }
        var counted = environment
        counted["AWS_ENDPOINT_URL"] = proxy.endpoint.absoluteString
        let dry = try await BuiltBinary.run(
            ["erase", "--subject", "victim", "--dry-run", "--json", "--config", "archiver.yml", "--archive", "s3://\(bucket)/a"], in: folder.path, environment: counted)
        #expect(dry.status == 0, "\(dry.stderr)")
        let requests = try await proxy.stats().byRequest
        // Listings, the bucket's versioning, and the subject index objects of the records' day (to list those it rewrites).
        #expect(requests.keys.allSatisfy { $0 == "GET /\(bucket)" || $0.hasPrefix("GET /\(bucket)/a/_subjects/") }, "listings and the bucket's versioning only: \(requests)")
        #expect(requests["GET /\(bucket)", default: 0] <= 4, "\(requests)")
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

    /// Every version of every key, by key.
    static func versions(_ s3: S3Client, _ bucket: String) async throws -> [String: Set<String>] {
        var all: [String: Set<String>] = [:]
        for try await version in s3.listAllObjectVersions(bucket: bucket) {
            all[version.key, default: []].insert(version.versionID + (version.isDeleteMarker ? " marker" : ""))
        }
        return all
    }

    @Test func erasingASubjectOfABatchedArchiveInAVersionedBucketRewritesItsObjectsAndDeletesTheirOldVersions() async throws {
        let server = try await MotoServer.shared()
        let environment = server.binaryEnvironment()
        let s3 = S3Client(settings: server.settings())
        let bucket = MotoServer.uniqueName("erase-batched")
        try await s3.createBucket(bucket)
        try await s3.putBucketVersioning(bucket: bucket, status: .enabled)
        let folder = TemporaryFolder("erase-batched-e2e")
        defer { folder.remove() }
        try Self.configuration.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        // 400 lines, every second one the subject's, then 200 of other people only: objects of 50 records, most
        // holding the subject's records among others', four holding none of them.
        let lines = Array(0..<400) + Array(stride(from: 401, to: 801, by: 2))
        try lines.map { EraseEndToEndTests.line($0) + "\n" }.joined().write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        let archive = "s3://\(bucket)/a"
        func ok(_ arguments: [String]) async throws -> String {
            let result = try await BuiltBinary.run(arguments, in: folder.path, environment: environment)
            #expect(result.status == 0, "\(arguments.prefix(2)): \(result.stderr)")
            return result.stdout
        }
        _ = try await ok(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--archive", archive, "--layout", "batched",
                          "--batch-max-records", "50", "--once"])
        // A replay (or an operator's copy) left an older version of every object: the erasure must reach those too.
        var keys: [String] = []
        for try await object in s3.listAllObjects(bucket: bucket, prefix: "a/") { keys.append(object.key) }
        for key in keys where key.hasSuffix(".jsonl.gz") || key.hasSuffix(".index.gz") {
            try await s3.putObject(bucket: bucket, key: key, body: try await s3.getObject(bucket: bucket, key: key))
        }
        let before = try await Self.versions(s3, bucket)
        let restoredBefore = try await ok(["restore", "--prefix", "2024/01/23", "--archive", archive, "--to", "-"]).split(separator: "\n").map(String.init)
        #expect(restoredBefore.count == lines.count)
        let victimLines = restoredBefore.filter { $0.contains("USER#victim") }
        #expect(victimLines.count == 200)

        // The objects holding the subject's records, by the index: their data objects and indexes.
        var holding: Set<String> = []
        var indexes: Set<String> = []
        for key in keys where key.hasSuffix(BatchedObjectName.indexSuffix) {
            let index = try BatchIndex.decode(try await s3.getObject(bucket: bucket, key: key), key: String(key.dropFirst(2)))
            if index.entries.contains(where: { $0.key.contains("USER%23victim_") || $0.key.contains("USER#victim_") }) {
                holding.insert("a/" + index.object)
                indexes.insert(key)
            }
        }
        // The subject index objects naming the subject: rewritten without it.
        let hmac = try SubjectKey(path: folder("state/subject.key")).hmac("victim")
        var namingSubject: Set<String> = []
        for key in keys where key.hasPrefix("a/" + SubjectIndexObjects.prefix) {
            if String(decoding: try gunzip(try await s3.getObject(bucket: bucket, key: key)), as: UTF8.self).contains(hmac) { namingSubject.insert(key) }
        }
        #expect(!namingSubject.isEmpty)
        let dataObjects = keys.count { $0.hasSuffix(BatchedObjectName.dataSuffix) && !$0.hasPrefix("a/" + SubjectIndexObjects.prefix) }
        #expect(!holding.isEmpty && holding.count == indexes.count && holding.count < dataObjects, "\(holding) of \(dataObjects)")

        let erased = try await ok(["erase", "--subject", "victim", "--config", "archiver.yml", "--archive", archive, "--json"])
        let out = try JSONValue.parse(erased)
        guard case .array(let jobs)? = out["jobs"] else { Issue.record("no jobs: \(erased)"); return }
        #expect(jobs.first?["job"]?["state"]?.stringValue == "completed", "\(erased)")

        let after = try await Self.versions(s3, bucket)
        for (key, versions) in before {
            if namingSubject.contains(key) {
                #expect(after[key].map { $0.count == 1 && $0.isDisjoint(with: versions) } ?? true, "\(key): rewritten (one new version) or deleted")
            } else if holding.contains(key) {
                #expect(after[key] == nil, "every version of \(key), which held the subject's records, is gone")
            } else if indexes.contains(key) {
                #expect(after[key]?.count == 1 && after[key]!.isDisjoint(with: versions), "\(key): only its rewritten version is left")
            } else {
                #expect(after[key] == versions, "\(key) holds none of the subject's records and is untouched")
            }
        }
        let added = Set(after.keys).subtracting(before.keys)
        #expect(added.count == holding.count && added.allSatisfy { $0.hasSuffix(".jsonl.gz") && after[$0]?.count == 1 }, "one rewritten object each: \(added)")
        for key in added {
            let body = try gunzip(try await s3.getObject(bucket: bucket, key: key))
            #expect(!String(decoding: body, as: UTF8.self).contains("victim"), "\(key) holds none of the subject's records")
        }
        let restoredAfter = try await ok(["restore", "--prefix", "2024/01/23", "--archive", archive, "--to", "-"]).split(separator: "\n").map(String.init)
        #expect(restoredAfter.sorted() == restoredBefore.filter { !$0.contains("USER#victim") }.sorted(), "every other record is intact and restorable")
    }
}
