import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite struct GzipTests {
    @Test func sameInputSameBytesAndRoundTrip() throws {
        let input = Array(String(repeating: #"{"PK":{"S":"USER#1"},"é":"✓"}"#, count: 50).utf8)
        let a = GzipEncoder(level: 6).compress(input)
        let encoder = GzipEncoder(level: 6)
        _ = encoder.compress(Array("something else first".utf8))
        let b = encoder.compress(input)
        #expect(a == b)
        #expect(Array(a.prefix(10)) == [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 0x03])
        #expect(try gunzip(a) == input)
        #expect(try gunzip(GzipEncoder().compress([])) == [])
    }

    @Test(arguments: [1, 4, 6, 9, 12])
    func everyLevelRoundTripsAndHigherLevelsAreNoLarger(level: Int) throws {
        let feed = try #require(FileManager.default.contents(atPath: PackagePaths.fixture("feed.jsonl")))
        let input = Array(feed.prefix(200_000))
        let packed = GzipEncoder(level: level).compress(input)
        #expect(try gunzip(packed) == input)
        #expect(packed.count < input.count / 3)
        if level > 1 { #expect(packed.count <= GzipEncoder(level: 1).compress(input).count) }
    }

    @Test func theSystemGunzipReadsIt() throws {
        let folder = TemporaryFolder("gzip")
        defer { folder.remove() }
        let input = Array((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 >> 3) })
        try Data(GzipEncoder().compress(input)).write(to: URL(fileURLWithPath: folder("x.json.gz")))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "gunzip -c '\(folder("x.json.gz"))' > '\(folder("x.json"))'"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(FileManager.default.contents(atPath: folder("x.json")).map(Array.init) == input)
    }

    @Test func corruptDataIsAnError() {
        var bytes = GzipEncoder().compress(Array("hello hello hello".utf8))
        bytes[12] ^= 0xFF
        #expect(throws: GzipError.self) { try gunzip(bytes) }
        #expect(throws: GzipError.self) { try gunzip(Array("plain".utf8)) }
        #expect(throws: GzipError.self) { try gunzip(Array(GzipEncoder().compress(Array("hello".utf8)).dropLast(10))) }
    }
}

@Suite struct NewlineMemberTests {
    @Test func theNewlineMemberIsAGzipOfOneNewlineAndSmallerThanTheEncoders() throws {
        let member = gzipNewlineMember
        #expect(member.count == 21)
        #expect(try gunzip(member) == [0x0A])
        #expect(try gunzip(GzipEncoder().compress(Array("{}".utf8)) + member + GzipEncoder().compress(Array("[]".utf8)) + member) == Array("{}\n[]\n".utf8))
        #expect(GzipEncoder().compress([0x0A]).count > member.count, "libdeflate stores one byte in a 24-byte member")
    }
}
