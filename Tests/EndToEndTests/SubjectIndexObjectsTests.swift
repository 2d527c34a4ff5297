import AWSClients
import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The subject index kept in the archive (`_subjects/…jsonl.gz`), through the built binary: the tail writes it with
/// HMACs only; another state folder with a copy of the subject key rebuilds the same index from it without reading a
/// record and erases the subject; afterwards no index object names the subject; a killed tail leaves nothing a
/// rebuild misreads.
@Suite(.serialized) struct SubjectIndexObjectsTests {
    /// The subject is read from the image (`owner`), so that no archive key holds it either: index objects then hold
    /// nothing that names a subject in clear.
    static let configuration = """
        state: state
        rules:
          - name: items
            match: {table: items}
            subject: "{OldImage.owner.S}"
        """

    /// Line `i`: a REMOVE of item `ITEM#i` owned by `victim` (every second line) or by `u<i % 97>`.
    static func line(_ i: Int) -> String {
        let owner = i % 2 == 0 ? "victim" : "u\(i % 97)"
        let image = #"{"PK":{"S":"ITEM#\#(i)"},"owner":{"S":"\#(owner)"}}"#
        return #"{"eventID":"e\#(i)","eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + i),"Keys":{"PK":{"S":"ITEM#\#(i)"}},"OldImage":\#(image),"SequenceNumber":"\#(900_000 + i)"},"eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/items/stream/x"}"#
    }

    /// Every index object of `prefix` in the bucket, gunzipped, by key.
    static func indexObjects(_ s3: S3Client, _ bucket: String, prefix: String) async throws -> [String: [UInt8]] {
        var found: [String: [UInt8]] = [:]
        for try await object in s3.listAllObjects(bucket: bucket, prefix: prefix + SubjectIndexObjects.prefix) {
            found[object.key] = try gunzip(try await s3.getObject(bucket: bucket, key: object.key))
        }
        return found
    }

    /// The records of `subject` an erasure's dry run finds through a state folder's index.
    static func indexed(_ subject: String, state: String, archive: String, in folder: TemporaryFolder, environment: [String: String]) async throws -> [String] {
        let dry = try await BuiltBinary.run(["erase", "--subject", subject, "--dry-run", "--json", "--config", "archiver.yml", "--state", state, "--archive", archive],
                                            in: folder.path, environment: environment)
        #expect(dry.status == 0, "\(dry.stderr)")
        guard case .array(let records)? = try JSONValue.parse(dry.stdout)["archive"] else { return [] }
        return records.compactMap { $0["key"]?.stringValue }.sorted()
    }

    @Test(arguments: ["per-record", "batched"])
    func anotherStateFolderRebuildsTheIndexFromTheIndexObjectsAloneAndErasesTheSubject(layout: String) async throws {
        let server = try await MotoServer.shared()
        let environment = server.binaryEnvironment()
        let s3 = S3Client(settings: server.settings())
        let bucket = MotoServer.uniqueName("subject-objects")
        try await s3.createBucket(bucket)
        try await s3.putBucketVersioning(bucket: bucket, status: .enabled)
        let folder = TemporaryFolder("subject-objects")
        defer { folder.remove() }
        try Self.configuration.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        try (0..<400).map { Self.line($0) + "\n" }.joined().write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        let archive = "s3://\(bucket)/a"
        func ok(_ arguments: [String], _ env: [String: String]? = nil) async throws -> String {
            let result = try await BuiltBinary.run(arguments, in: folder.path, environment: env ?? environment)
            #expect(result.status == 0, "\(arguments.prefix(3)): \(result.stderr)")
            return result.stdout
        }
        _ = try await ok(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--archive", archive, "--once"]
                         + (layout == "batched" ? ["--layout", "batched", "--batch-max-records", "50"] : []))

        // Index objects hold HMACs, never a subject.
        let key = try SubjectKey(path: folder("state/subject.key"))
        let victim = key.hmac("victim")
        let objects = try await Self.indexObjects(s3, bucket, prefix: "a/")
        try #require(!objects.isEmpty, "the tail wrote index objects")
        for (name, bytes) in objects {
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(!text.contains("victim") && !text.contains("u17"), "\(name) holds a subject in clear")
            #expect(text.hasPrefix("{\"archiver_subject_index\":1,\"key_id\":\"\(key.id)\""), "\(text.prefix(120))")
        }
        let lines = objects.values.flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n").dropFirst() }
        #expect(lines.count == 400, "one line per archived record")
        #expect(lines.count { $0.contains(victim) } == 200)
        #expect(try await ok(["ls", "--archive", archive]).split(separator: "\n").count == 400, "ls lists records only")

        // A second state folder holding only a copy of the key: the same index, from the index objects, no record read.
        try FileManager.default.createDirectory(atPath: folder("other"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder("state/subject.key"), toPath: folder("other/subject.key"))
        let proxy = try FaultProxy(frontOf: server)
        defer { proxy.stop() }
        var counted = environment
        counted["AWS_ENDPOINT_URL"] = proxy.endpoint.absoluteString
        let rebuilt = try JSONValue.parse(try await ok(["index", "rebuild", "--json", "--config", "archiver.yml", "--state", "other", "--archive", archive], counted))
        let requests = try await proxy.stats().byRequest
        let recordReads = requests.filter { $0.key.hasPrefix("GET ") && !$0.key.contains("/_subjects/") && ($0.key.hasSuffix(".json.gz") || $0.key.hasSuffix(".jsonl.gz")) }
        #expect(recordReads.isEmpty, "no record read: \(recordReads)")
        #expect(requests.filter { $0.key.contains("/_subjects/") }.count == objects.count, "one read per index object: \(requests.sorted { $0.key < $1.key })")
        #expect(rebuilt["rows_from_index_objects"] == .integer(400) && rebuilt["rows_from_scan"] == .integer(0) && rebuilt["records_scanned"] == .integer(0),
                "\(rebuilt.serialized)")
        #expect(rebuilt["index_objects"] == .integer(objects.count) && rebuilt["subjects"] == .integer(98), "\(rebuilt.serialized)")
        let first = try await Self.indexed("victim", state: "state", archive: archive, in: folder, environment: environment)
        let second = try await Self.indexed("victim", state: "other", archive: archive, in: folder, environment: environment)
        #expect(first.count == 200 && first == second, "the same rows: \(first.count) and \(second.count)")

        // A state folder with another key is told what to do; --scan-records indexes under its own key.
        let mismatch = try await BuiltBinary.run(["index", "rebuild", "--config", "archiver.yml", "--state", "third", "--archive", archive], in: folder.path, environment: environment)
        #expect(mismatch.status != 0 && mismatch.stderr.contains("subject.key") && mismatch.stderr.contains("--scan-records"), "\(mismatch.stderr)")
        let scanned = try JSONValue.parse(try await ok(["index", "rebuild", "--scan-records", "--json", "--config", "archiver.yml", "--state", "third", "--archive", archive]))
        #expect(scanned["rows_from_scan"] == .integer(400) && scanned["rows_from_index_objects"] == .integer(0), "\(scanned.serialized)")

        // The dry run lists the index objects a real run rewrites; the erasure from the second state folder leaves
        // nothing of the subject: no record, no line in an index object (nor in an older version of one).
        let dry = try JSONValue.parse(try await ok(["erase", "--subject", "victim", "--dry-run", "--json", "--config", "archiver.yml", "--state", "other", "--archive", archive]))
        let naming = objects.filter { String(decoding: $0.value, as: UTF8.self).contains(victim) }.keys.map { String($0.dropFirst(2)) }.sorted()
        guard case .array(let listed)? = dry["index_objects"] else { Issue.record("no index_objects in \(dry.serialized)"); return }
        #expect(listed.compactMap(\.stringValue).sorted() == naming, "\(listed)")
        let erased = try JSONValue.parse(try await ok(["erase", "--subject", "victim", "--json", "--config", "archiver.yml", "--state", "other", "--archive", archive]))
        guard case .array(let jobs)? = erased["jobs"], let job = jobs.first else { Issue.record("no job: \(erased.serialized)"); return }
        #expect(job["job"]?["state"]?.stringValue == "completed", "\(erased.serialized)")
        #expect(job["receipt"]?["counts"]?["subject-index"]?["rewrite.rewritten"] == .integer(naming.count), "\(job["receipt"]?["counts"]?.serialized ?? "")")
        let restored = try await ok(["restore", "--prefix", "2024/01", "--archive", archive, "--to", "-"]).split(separator: "\n")
        #expect(restored.count == 200 && !restored.contains { $0.contains("\"victim\"") }, "\(restored.count)")
        let after = try await Self.indexObjects(s3, bucket, prefix: "a/")
        #expect(after.count == objects.count)
        for (name, bytes) in after { #expect(!String(decoding: bytes, as: UTF8.self).contains(victim), "\(name) still names the subject") }
        #expect(after.values.flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n").dropFirst() }.count == 200, "other people's lines stay")
        for try await version in s3.listAllObjectVersions(bucket: bucket, prefix: "a/" + SubjectIndexObjects.prefix) where !version.isDeleteMarker {
            let body = try gunzip(try await s3.getObject(bucket: bucket, key: version.key, range: 0...(64 << 20), versionID: version.versionID).body)
            #expect(!String(decoding: body, as: UTF8.self).contains(victim), "an older version of \(version.key) names the subject")
        }
    }

    /// SIGKILLs of a following tail while lines arrive: whatever index objects the kills left, a rebuild in a state
    /// folder holding only the key reads them all and indexes every archived record of the subject exactly as the
    /// tail's own state folder does.
    @Test func aKilledTailLeavesNoIndexObjectARebuildMisreads() async throws {
        let folder = TemporaryFolder("subject-objects-kill")
        defer { folder.remove() }
        try ("archive: archive\n" + Self.configuration).write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: folder("feed.jsonl"), contents: nil)
        let feed = try FileHandle(forWritingTo: URL(fileURLWithPath: folder("feed.jsonl")))
        defer { try? feed.close() }
        var written = 0
        var kills = 0
        var atWork = 0
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<6 {
            let tail = try BuiltBinary.start(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml"], in: folder.path)
            for _ in 0..<4 {
                feed.write(Data((written..<(written + 250)).map { Self.line($0) + "\n" }.joined().utf8))
                written += 250
                try await Task.sleep(for: .milliseconds(Int.random(in: 30...200, using: &generator)))
            }
            tail.signal(SIGKILL)
            _ = await tail.finish()
            kills += 1
            if EraseEndToEndTests.archived(folder).count < written { atWork += 1 }
        }
        #expect(atWork > 0, "a kill came while the tail had lines to write")
        let last = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once"], in: folder.path)
        #expect(last.status == 0, "\(last.stderr)")
        let archived = EraseEndToEndTests.archived(folder)
        let once = archived == Array(0..<written)
        #expect(once, "every record archived once: \(archived.count) of \(written)")
        try FileManager.default.createDirectory(atPath: folder("other"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: folder("state/subject.key"), toPath: folder("other/subject.key"))
        let rebuild = try await BuiltBinary.run(["index", "rebuild", "--json", "--config", "archiver.yml", "--state", "other"], in: folder.path)
        #expect(rebuild.status == 0, "\(rebuild.stderr)")
        let counts = try JSONValue.parse(rebuild.stdout)
        #expect(counts["records_scanned"] == .integer(0), "every record is in an index object: \(rebuild.stdout)")
        let first = try await Self.indexed("victim", state: "state", archive: "archive", in: folder, environment: [:])
        let second = try await Self.indexed("victim", state: "other", archive: "archive", in: folder, environment: [:])
        #expect(second.count == written / 2 && first == second, "\(first.count) and \(second.count) after \(kills) kills (\(atWork) at work)")
    }
}
