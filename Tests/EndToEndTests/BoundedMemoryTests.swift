import ArchiverCore
import Foundation
import Testing
import TestSupport

/// Hostile input cannot take archiver's memory past its normal bound: a line of tens of megabytes in a feed,
/// an archive object that decompresses to far more than any record. Peak memory is the child's high-water
/// mark (`wait4`), as `scripts/bench.py` measures it.
@Suite struct BoundedMemoryTests {
    /// The tail's memory bound (the benchmarks' target for a million records).
    static let bound = 100 << 20

    /// A line of `length` bytes that starts like a record: what a runaway producer might write.
    static func writeHugeLine(length: Int, to handle: FileHandle) throws {
        let head = Array(#"{"eventName":"REMOVE","dynamodb":{"ApproximateCreationDateTime":1705315800,"Keys":{"PK":{"S":"BIG"}},"OldImage":{"blob":{"S":""#.utf8)
        try handle.write(contentsOf: Data(head))
        var left = length - head.count
        let block = Data((0..<(1 << 20)).map { UInt8(ascii: "a") + UInt8($0 % 26) })
        while left > 0 {
            let piece = block.prefix(left)
            try handle.write(contentsOf: piece)
            left -= piece.count
        }
        try handle.write(contentsOf: Data("\n".utf8))
    }

    @Test func aHugeLineIsDeadLetteredAsTooLargeWithoutBeingHeld() throws {
        let folder = TemporaryFolder("huge-line")
        defer { folder.remove() }
        let hugeLength = 64 << 20
        let (before, countsBefore) = SampleFeed.text(0..<300)
        let (after, countsAfter) = SampleFeed.text(300..<600)
        _ = FileManager.default.createFile(atPath: folder("feed.jsonl"), contents: nil)
        let handle = try #require(FileHandle(forWritingAtPath: folder("feed.jsonl")))
        try handle.write(contentsOf: Data(before.utf8))
        try Self.writeHugeLine(length: hugeLength, to: handle)
        try handle.write(contentsOf: Data(after.utf8))
        try handle.close()
        let hugeStart = before.utf8.count
        let expectedHash = try Shell.run(["sh", "-c", "tail -c +\(hugeStart + 1) '\(folder("feed.jsonl"))' | head -c \(hugeLength) | sha256sum"])
            .stdout.split(separator: " ").first.map(String.init) ?? ""

        let run = try BuiltBinary.runMeasuringPeakMemory(
            ["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once", "--json"], in: folder.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.peakBytes < Self.bound, "a \(hugeLength >> 20) MB line took the tail to \(run.peakBytes >> 20) MB")
        print("huge line: \(hugeLength >> 20) MB line, tail peak memory \(run.peakBytes >> 20) MB")
        let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let bad = countsBefore.malformed + countsBefore.removesWithoutImage + countsAfter.malformed + countsAfter.removesWithoutImage
        #expect(summary["read"] as? Int == countsBefore.total + countsAfter.total + 1)
        #expect(summary["archived"] as? Int == countsBefore.removes + countsAfter.removes)
        #expect(summary["dead_lettered"] as? Int == bad + 1)

        let list = try BuiltBinary.run(["dlq", "list", "--state", "state", "--json"], in: folder.path)
        let entries = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        let huge = try #require(entries.first { $0["code"] as? String == "too-large" }, "\(entries)")
        #expect(huge["position"] as? String == "line 301 (byte \(hugeStart))")
        #expect(huge["bytes"] as? Int == hugeLength)
        // The entry keeps the position, the length, the hash and the first KiB: a few KB, not the line.
        let id = huge["id"] as! String
        let entryPath = folder("state/dead-letters/\(id).json")
        let entrySize = try FileManager.default.attributesOfItem(atPath: entryPath)[.size] as! Int
        #expect(entrySize < 8 << 10, "the dead-letter entry is \(entrySize) bytes")
        let entry = try JSONDecoder().decode(DeadLetter.self, from: Data(contentsOf: URL(fileURLWithPath: entryPath)))
        #expect(entry.recordBytes == Int64(hugeLength))
        #expect(entry.recordSHA256 == expectedHash && expectedHash.count == 64)
        #expect(entry.raw.count == 1024)
        #expect(entry.raw.starts(with: Array(#"{"eventName":"REMOVE""#.utf8)))
        #expect(entry.reason.contains("\(hugeLength) bytes") && entry.reason.contains("--max-record-bytes"), "\(entry.reason)")
        // Retrying cannot archive it (only its beginning is kept) and says so unchanged.
        let retry = try BuiltBinary.run(["dlq", "retry", id, "--archive", "archive", "--state", "state", "--json"], in: folder.path)
        #expect(retry.stdout.contains("\"still_failing\" : 1"), "\(retry.stdout) \(retry.stderr)")
        let shown = try BuiltBinary.run(["dlq", "show", id, "--state", "state", "--json"], in: folder.path)
        #expect(shown.stdout.contains("\"code\" : \"too-large\""), "\(shown.stdout)")
    }

    /// An archive folder with the sample feed's January records and objects archiver never wrote: one that
    /// decompresses to 128 MiB, one that holds two records, one that holds no record.
    struct HostileArchive {
        let folder = TemporaryFolder("bomb")
        let bomb = "2024/01/15/BOMB.000000.1.manual.json.gz"
        let two = "2024/01/15/TWO.000000.2.manual.json.gz"
        let notJSON = "2024/01/16/TEXT.000000.3.manual.json.gz"
        let archived: Int

        init() throws {
            let counts = try SampleFeed.write(0..<400, to: folder("feed.jsonl"))
            archived = counts.removes
            let tail = try BuiltBinary.run(["tail", "--source", "jsonl:feed.jsonl", "--archive", "archive", "--state", "state", "--once"], in: folder.path)
            guard tail.status == 0 else { throw CommandFailed(tail.stderr) }
            // 128 gzip members of 1 MiB of zeros each: about 130 KB that gunzip makes 128 MiB.
            let member = GzipEncoder(level: 12).compress([UInt8](repeating: 0, count: 1 << 20))
            let bombBytes = (0..<128).flatMap { _ in member }
            try Data(bombBytes).write(to: URL(fileURLWithPath: folder("archive/" + bomb)))
            let record = SampleFeed.text(5..<6).0.trimmingCharacters(in: .newlines)
            try Data(GzipEncoder().compress(Array((record + "\n" + record).utf8))).write(to: URL(fileURLWithPath: folder("archive/" + two)))
            try FileManager.default.createDirectory(atPath: folder("archive/2024/01/16"), withIntermediateDirectories: true)
            try Data(GzipEncoder().compress(Array("hello".utf8))).write(to: URL(fileURLWithPath: folder("archive/" + notJSON)))
        }

        struct CommandFailed: Error { let message: String; init(_ m: String) { message = m } }
    }

    @Test func restoreRefusesAnObjectThatDecompressesPastTheLimitByKey() throws {
        let a = try HostileArchive()
        defer { a.folder.remove() }
        let one = try BuiltBinary.runMeasuringPeakMemory(["restore", a.bomb, "--archive", "archive", "--to", "-"], in: a.folder.path)
        #expect(one.status != 0)
        #expect(one.stderr.contains(a.bomb) && one.stderr.contains("decompresses to more than \(TailOptions.defaultMaxRecordBytes) bytes"), "\(one.stderr)")
        #expect(one.stderr.contains("--max-record-bytes"), "\(one.stderr)")
        #expect(one.peakBytes < Self.bound, "restore of the object took \(one.peakBytes >> 20) MB")
        let day = try BuiltBinary.runMeasuringPeakMemory(["restore", "--prefix", "2024/01/15", "--archive", "archive", "--to", "-", "--json"], in: a.folder.path)
        #expect(day.status != 0)
        #expect(day.peakBytes < Self.bound, "restore --prefix took \(day.peakBytes >> 20) MB")
        // Standard output holds the restored items, one a line, then the summary (indented JSON).
        let lines = day.stdout.split(separator: "\n")
        let start = try #require(lines.lastIndex(of: "{"), "\(day.stdout.suffix(2000))")
        let summary = try JSONSerialization.jsonObject(with: Data(lines[start...].joined(separator: "\n").utf8)) as? [String: Any]
        let problems = summary?["problems"] as? [String] ?? []
        #expect(problems.contains { $0.contains(a.bomb) && $0.contains("decompresses to more than") }, "\(day.stdout.suffix(2000))")
        print("decompression bomb: restore <key> peak \(one.peakBytes >> 20) MB, restore --prefix peak \(day.peakBytes >> 20) MB")
    }

    @Test func syncWritesOnlyObjectsHoldingOneRecordToJSONLinesAndNamesTheOthers() throws {
        let a = try HostileArchive()
        defer { a.folder.remove() }
        let run = try BuiltBinary.runMeasuringPeakMemory(
            ["sync", "2024-01", "copy", "--archive", "archive", "--jsonl", "month.jsonl", "--json"], in: a.folder.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.peakBytes < Self.bound, "sync --jsonl took \(run.peakBytes >> 20) MB")
        print("decompression bomb: sync --jsonl peak \(run.peakBytes >> 20) MB")
        let summary = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as! [String: Any]
        let leftOut = summary["jsonl_left_out"] as? [[String: Any]] ?? []
        #expect(Set(leftOut.compactMap { $0["key"] as? String }) == [a.bomb, a.two, a.notJSON], "\(leftOut)")
        #expect(leftOut.allSatisfy { !($0["problem"] as? String ?? "").isEmpty })
        let inMonth = a.folder.files(under: "archive").filter { $0.hasPrefix("2024/01/") }
        #expect(summary["objects"] as? Int == inMonth.count)
        #expect(summary["jsonl_records"] as? Int == inMonth.count - 3)
        // The analysis file holds records only, one a line; the copy is byte for byte, hostile objects included.
        let lines = try String(contentsOfFile: a.folder("month.jsonl"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == inMonth.count - 3)
        #expect(lines.allSatisfy { $0.hasPrefix("{") && $0.contains("\"eventName\":\"REMOVE\"") })
        for key in [a.bomb, a.two, a.notJSON] {
            #expect(FileManager.default.contents(atPath: a.folder("copy/" + key)) == FileManager.default.contents(atPath: a.folder("archive/" + key)))
        }
        // For people too.
        let text = try BuiltBinary.run(["sync", "2024-01", "again", "--archive", "archive", "--jsonl", "again.jsonl"], in: a.folder.path)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("not in jsonl") && text.stdout.contains(a.bomb), "\(text.stdout)")
    }
}
