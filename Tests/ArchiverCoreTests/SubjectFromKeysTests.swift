import ArchiverCore
import Crypto
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// A subject read from the record's `Keys` where they stand (the tail's fast path for rules that only name a subject)
/// finds what the decoded image finds, and its HMAC is HMAC-SHA256 byte for byte: the index of a feed is the same.
@Suite("Subjects read from Keys in place: the same values, the same HMACs, the same index")
struct SubjectFromKeysTests {
    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func theHMACIsHMACSHA256() {
        let subjects = ["", "a", "victim", "123", "ü", "ｕser", "*", "..", "%", String(repeating: "é", count: 5000), "a\u{0301}"]
        for size in [1, 32, 63, 64, 65, 100] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let key = SubjectKey(bytes: bytes)
            for subject in subjects {
                let expected = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(subject.utf8), using: SymmetricKey(data: bytes)))
                #expect(key.hmac(subject) == expected, "key of \(size) bytes, subject \(subject.prefix(12))")
            }
        }
    }

    @Test func keysReadInPlaceFindWhatTheDecodedImageFinds() throws {
        let keys = [
            #"{"PK":{"S":"USER#1"},"SK":{"S":"ITEM#2"}}"#,
            #" { "PK" : { "S" : "USER#\u00e9\n\"x\"" } , "SK":{"N":"12"} } "#,
            #"{"SK":{"S":"a"}}"#,
            #"{"PK":{"S":"one"},"PK":{"S":"two"}}"#,
            #"{"PK":{"N":"1"}}"#,
            #"{"PK":{"N":"1e500000"}}"#,
            #"{"PK":{"N":"12.5"},"flag":{"BOOL":true},"off":{"BOOL":false}}"#,
            #"{"PK":{"S":"a","N":"1"}}"#,
            #"{"PK":{}}"#,
            #"{"PK":"USER#1"}"#,
            #"{"PK":{"S":1}}"#,
            #"{"PK":{"BOOL":"true"}}"#,
            #"{"P\u004b":{"S":"escaped name"}}"#,
            #"{"é":{"S":"composed"},"e\u0301x":{"S":"decomposed"}}"#,
            #"{"e\u0301":{"S":"decomposed name"}}"#,
            #"{"PK":{"S":""}}"#,
            #"{}"#,
        ]
        let paths = try ["Keys.PK.S", "Keys.PK.N", "Keys.SK.S", "Keys.SK.N", "Keys.flag.BOOL", "Keys.off.BOOL", "Keys.é.S", "Keys.missing.S"]
            .map { try AttributePath($0, types: [.s, .n, .bool]) }
        for text in keys {
            let record = Array((#"{"dynamodb":{"Keys":"# + text + "}}").utf8)
            let range = 20..<(20 + text.utf8.count)
            try record.withUnsafeBytes { buffer in
                let decoded = try RecordImage(record: buffer, keysRange: range, oldImageRange: nil)
                for path in paths {
                    #expect(RecordImage.value(path, in: buffer, image: range) == decoded.value(path), "\(path) in \(text)")
                }
                #expect(RecordImage.value(paths[0], in: buffer, image: nil) == .missing)
            }
        }
    }

    /// The feed's subject index with a rule that only names the subject (read in place) and with the same rule and
    /// a condition that always holds (the decoded image): the same HMACs — HMAC-SHA256 of each subject — and keys.
    @Test func aFeedIsIndexedAlikeEitherWay() async throws {
        let bytes = (0..<32).map { UInt8($0 * 7 % 251) }
        func index(where condition: String?) async throws -> (ErasureStore, [ListedDeletion], TemporaryFolder) {
            let folder = TemporaryFolder("subject-keys")
            _ = try SampleFeed.write(0..<2000, to: folder("feed.jsonl"))
            let text = """
                rules:
                  - name: users
                    match: {table: "*"\(condition.map { ", where: [\"\($0)\"]" } ?? "")}
                    subject: "{Keys.PK.S|strip-prefix:USER#}"
                """
            let configuration = try ArchiverConfiguration.parse(text, file: "subject.yml")
            let checkpoints = try CheckpointStore(stateFolder: folder("state"))
            let store = try LocalArchiveStore(path: folder("archive"), access: .create)
            var options = TailOptions(workers: 2, maximumBackoff: 0.01)
            options.layout = try await LayoutManifest.prepare(store, requested: .perRecord)
            let pipeline = ArchivePipeline(
                source: JSONLinesSource(path: folder("feed.jsonl"), chunkSize: 16 * 1024), store: store, checkpoints: checkpoints,
                deadLetters: try DeadLetterFolder(stateFolder: folder("state")), options: options,
                actions: DeletionActions(rules: RuleSet(rules: configuration.rules, roots: configuration.roots, subjectKey: SubjectKey(bytes: bytes)),
                                         queue: configuration.queue))
            _ = try await pipeline.run(stop: StopSignal())
            var listed: [ListedDeletion] = []
            for try await page in listDeletions(in: store, filter: try ListingFilter()) { listed += page }
            return (ErasureStore(checkpoints: checkpoints), listed, folder)
        }
        let (inPlace, listed, first) = try await index(where: nil)
        let (decoded, _, second) = try await index(where: "Keys.PK.S starts-with USER#")
        defer { first.remove(); second.remove() }
        #expect(listed.count > 500)
        var indexed: [String] = []
        for user in 0..<1000 {
            let subject = "\(user)"
            let hmac = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(subject.utf8), using: SymmetricKey(data: bytes)))
            let found = try inPlace.indexed(subjectHMAC: hmac).map(\.archiveKey)
            #expect(found == (try decoded.indexed(subjectHMAC: hmac).map(\.archiveKey)), "subject \(subject)")
            #expect(found.allSatisfy { $0.contains("USER%23\(user)_") || $0.contains("USER#\(user)_") }, "subject \(subject): \(found.prefix(3))")
            indexed += found
        }
        #expect(indexed.sorted() == listed.map(\.key).sorted(), "every archived record is indexed under the HMAC of its subject")
    }
}
