import Foundation
import Testing
import TestSupport

@Suite("serve with deletion rules and a batched archive", .serialized)
struct ServeDeletionsTests {
    /// `count` deletions of `uploads` items, each owning `files/<n>.bin`.
    static func feed(_ count: Int) -> String {
        (0..<count).map { n in
            #"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":\#(1_706_000_000 + n),"Keys":{"PK":{"S":"U\#(n)"}},"#
                + #""OldImage":{"PK":{"S":"U\#(n)"},"file":{"S":"\#(n).bin"}},"SequenceNumber":"\#(1_000_000 + n)"},"#
                + #""eventSourceARN":"arn:aws:dynamodb:us-east-1:1:table/uploads/stream/x"}"#
        }.joined(separator: "\n") + "\n"
    }

    @Test("its tails write batched objects and queue each archived deletion's actions; its queue workers delete the owned files; SIGTERM exits 0")
    func tailsQueueAndWorkersDelete() async throws {
        let folder = TemporaryFolder("serve-deletions")
        defer { folder.remove() }
        let count = 60
        try FileManager.default.createDirectory(atPath: folder("files"), withIntermediateDirectories: true)
        for n in 0..<count { try Data("file \(n)".utf8).write(to: URL(fileURLWithPath: folder("files/\(n).bin"))) }
        try Data("not owned".utf8).write(to: URL(fileURLWithPath: folder("files/other.bin")))
        try Self.feed(count).write(toFile: folder("feed.jsonl"), atomically: true, encoding: .utf8)
        try """
            state: state
            archive: archive
            sources: ["jsonl:feed.jsonl"]
            layout: batched
            batching: {flush-after: 1s}
            roots: {files: \(folder("files"))}
            rules:
              - name: owned
                match: {table: uploads}
                actions:
                  - delete-object: {root: files, key: "{OldImage.file.S}"}
            queue: {poll: 200ms}
            """.write(toFile: folder("archiver.yml"), atomically: true, encoding: .utf8)

        let server = try await ServeProcess(["--config", "archiver.yml"], in: folder.path)
        let emptied = try await server.wait(seconds: 90) {
            (try FileManager.default.contentsOfDirectory(atPath: folder("files"))) == ["other.bin"]
        }
        let result = await server.stop()
        #expect(emptied, "the owned files were not all deleted: \(result.stderr.suffix(2000))")
        #expect(result.status == 0, "\(result.stderr.suffix(2000))")

        // The archive is batched (a manifest and indexes, no per-record object) and lists every deletion.
        let archived = folder.files(under: "archive")
        #expect(archived.contains { $0.hasSuffix(".index.gz") } && !archived.contains { $0.hasSuffix(".json.gz") }, "\(archived.prefix(5))")
        let listing = try await BuiltBinary.run(["ls", "--archive", "archive", "--json"], in: folder.path)
        let listed = try JSONSerialization.jsonObject(with: Data(listing.stdout.utf8)) as? [Any]
        #expect(listing.status == 0 && listed?.count == count, "\(listing.stdout.prefix(300)) \(listing.stderr)")
        // Every action completed, once.
        let stats = try await BuiltBinary.run(["queue", "stats", "--state-folder", "state", "--json"], in: folder.path)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any], "\(stats.stdout) \(stats.stderr)")
        #expect(json["total"] as? Int == count)
        #expect((json["states"] as? [String: Any])?["completed"] as? Int == count, "\(json)")
    }
}
