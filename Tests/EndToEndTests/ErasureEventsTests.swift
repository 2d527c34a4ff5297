import Crypto
import Foundation
import Testing
import TestSupport

/// An erasure's events and its consumers' acks, through the built binary: `erasure.requested` before anything is
/// erased, the job waiting for a critical consumer's ack (and nothing erased meanwhile), `erasure.completed` with the
/// receipt's hash after; `coordination cancel` erases nothing; without `coordinate:` the two events only.
@Suite("Erasure events and acks")
struct ErasureEventsTests {
    static func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    /// A folder with two subjects' deletions archived by a tail, and the configuration (with `erasure` as given).
    static func world(_ erasure: String) async throws -> TemporaryFolder {
        let folder = TemporaryFolder("erasure-events")
        let lines = ["alice-7391", "bob-2208", "alice-7391"].enumerated().map { n, subject in
            #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"USER#\#(subject)"},"SK":{"S":"S\#(n)"}},"OldImage":{"PK":{"S":"USER#\#(subject)"},"SK":{"S":"S\#(n)"}},"SequenceNumber":"\#(10_000 + n)"},"eventSourceARN":"arn:aws:dynamodb:r:1:table/users/stream/x"}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        try """
            state: state
            archive: archive
            rules:
              - name: users
                match: {table: users}
                subject: "{Keys.PK.S|strip-prefix:USER#}"
            \(erasure)
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)
        let tail = try await BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--config", "archiver.yml", "--once"], in: folder.path)
        #expect(tail.status == 0, "\(tail.stderr)")
        return folder
    }

    static func events(_ folder: TemporaryFolder) async throws -> [[String: Any]] {
        let run = try await BuiltBinary.run(["coordination", "run", "--once", "--config", "archiver.yml"], in: folder.path)
        #expect(run.status == 0, "\(run.stderr)")
        let text = (try? String(contentsOfFile: folder("state/events.jsonl"), encoding: .utf8)) ?? ""
        #expect(!text.contains("alice"), "events never name the subject")
        return text.split(separator: "\n").compactMap { json(String($0)) as? [String: Any] }
    }

    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func archived(_ folder: TemporaryFolder) -> [String] {
        folder.files(under: "archive").filter { $0.hasSuffix(".json.gz") }
    }

    @Test func aCriticalConsumerAcksBeforeAnythingIsErasedAndCompletionCarriesTheReceiptsHash() async throws {
        let folder = try await Self.world("""
            erasure:
              coordinate:
                consumers: [{name: legal, critical: true, timeout: 1h}]
            """)
        defer { folder.remove() }
        #expect(Self.archived(folder).count == 3)

        let erase = try await BuiltBinary.run(["erase", "--subject", "alice-7391", "--config", "archiver.yml", "--json"], in: folder.path)
        #expect(erase.status == 0, "\(erase.stderr)")
        let jobs = ((Self.json(erase.stdout) as? [String: Any])?["jobs"] as? [[String: Any]]) ?? []
        let job = try #require((jobs.first?["job"] as? [String: Any])?["job"] as? String, "\(erase.stdout)")
        #expect(Self.archived(folder).count == 3, "nothing is erased before the critical consumer acked")
        let status = try await BuiltBinary.run(["erase", "status", job, "--config", "archiver.yml", "--json"], in: folder.path)
        let waiting = Self.json(status.stdout) as? [String: Any]
        #expect(waiting?["state"] as? String == "queued", "\(status.stdout)")
        #expect((waiting?["error"] as? String)?.contains("legal") == true, "erase status names who is awaited: \(status.stdout)")

        let requested = try await Self.events(folder).filter { $0["type"] as? String == "erasure.requested" }
        #expect(requested.count == 1)
        let data = try #require(requested.first?["data"] as? [String: Any])
        #expect(data["job"] as? String == job && data["archived_records_indexed"] as? Int == 2, "\(data)")
        #expect((data["subject_hmac"] as? String)?.count == 64)
        let coordination = try #require(data["coordination_id"] as? String)

        // Taking the job up again before the ack changes nothing and writes no second event.
        _ = try await BuiltBinary.run(["erase", "resume", job, "--config", "archiver.yml"], in: folder.path)
        #expect(Self.archived(folder).count == 3)
        let unknown = try await BuiltBinary.run(["ack", coordination, "--consumer", "marketing", "--config", "archiver.yml"], in: folder.path)
        #expect(unknown.status != 0 && unknown.stderr.contains("legal"), "\(unknown.stderr)")

        let ack = try await BuiltBinary.run(["ack", coordination, "--consumer", "legal", "--config", "archiver.yml"], in: folder.path)
        #expect(ack.status == 0, "\(ack.stderr)")
        let run = try await BuiltBinary.run(["erase", "run", "--config", "archiver.yml", "--json"], in: folder.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.archived(folder).count == 1, "the job was due as soon as its coordination was released")

        let events = try await Self.events(folder)
        #expect(events.filter { $0["type"] as? String == "erasure.requested" }.count == 1)
        let completed = try #require(events.first { $0["type"] as? String == "erasure.completed" })
        let done = try #require(completed["data"] as? [String: Any])
        #expect(done["state"] as? String == "completed" && done["job"] as? String == job)
        let receipt = try await BuiltBinary.run(["erase", "receipt", job, "--config", "archiver.yml"], in: folder.path)
        let receiptFile = try String(contentsOfFile: folder("state/erasure/receipts/\(job).json"), encoding: .utf8)
        #expect(receipt.status == 0 && done["receipt_sha256"] as? String == Self.sha256Hex(receiptFile), "\(done)")
        let show = try await BuiltBinary.run(["coordination", "show", coordination, "--config", "archiver.yml", "--json"], in: folder.path)
        #expect((Self.json(show.stdout) as? [String: Any])?["state"] as? String == "completed", "\(show.stdout)")
        #expect(!events.contains { ($0["type"] as? String ?? "").hasPrefix("deletion.") }, "an erasure's coordination writes no deletion events")
    }

    @Test func cancellingTheCoordinationErasesNothing() async throws {
        let folder = try await Self.world("""
            erasure:
              coordinate: {consumers: [{name: legal, critical: true}]}
            """)
        defer { folder.remove() }
        let erase = try await BuiltBinary.run(["erase", "--subject", "alice-7391", "--config", "archiver.yml", "--json"], in: folder.path)
        let job = try #require(((((Self.json(erase.stdout) as? [String: Any])?["jobs"] as? [[String: Any]])?.first?["job"]) as? [String: Any])?["job"] as? String)
        let coordination = try #require(try await Self.events(folder).first { $0["type"] as? String == "erasure.requested" }
            .flatMap { ($0["data"] as? [String: Any])?["coordination_id"] as? String })
        let cancel = try await BuiltBinary.run(["coordination", "cancel", coordination, "--config", "archiver.yml"], in: folder.path)
        #expect(cancel.status == 0, "\(cancel.stderr)")
        _ = try await BuiltBinary.run(["erase", "run", "--config", "archiver.yml"], in: folder.path)
        let status = try await BuiltBinary.run(["erase", "status", job, "--config", "archiver.yml", "--json"], in: folder.path)
        #expect((Self.json(status.stdout) as? [String: Any])?["state"] as? String == "cancelled", "\(status.stdout)")
        #expect(Self.archived(folder).count == 3)
    }

    @Test func withoutCoordinationTheJobRunsAtOnceBetweenItsTwoEvents() async throws {
        let folder = try await Self.world("")
        defer { folder.remove() }
        let erase = try await BuiltBinary.run(["erase", "--subject", "alice-7391", "--config", "archiver.yml"], in: folder.path)
        #expect(erase.status == 0, "\(erase.stderr)")
        #expect(Self.archived(folder).count == 1)
        let types = try await Self.events(folder).compactMap { $0["type"] as? String }
        #expect(types == ["erasure.requested", "erasure.completed"], "\(types)")
    }
}
