import ArchiverCore
import Foundation
import JSONToolkit
import Testing
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A JSON-lines file that deletions are appended to, one DynamoDB Streams record a line.
struct JSONLinesFixture: ChangeSourceFixture {
    let folder = TemporaryFolder("jsonl-contract")
    var path: String { folder("feed.jsonl") }

    init() {
        _ = FileManager.default.createFile(atPath: folder("feed.jsonl"), contents: Data())
    }

    func remove() { folder.remove() }

    /// The line written for item `n`'s deletion.
    static func record(_ n: Int) -> String {
        #"{"eventID":"e\#(n)","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","#
            + #""dynamodb":{"ApproximateCreationDateTime":\#(1_705_315_800 + n),"Keys":\#(ConformanceItems.keyJSON(n)),"#
            + #""OldImage":\#(ConformanceItems.dynamoJSON(ConformanceItems.item(n))),"SequenceNumber":"\#(1000 + n)","#
            + #""SizeBytes":120,"StreamViewType":"NEW_AND_OLD_IMAGES"}}"#
    }

    func delete(_ numbers: Range<Int>) async throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(numbers.map { Self.record($0) + "\n" }.joined().utf8))
        try handle.close()
    }

    func source() async throws -> any ChangeSource { JSONLinesSource(path: path, chunkSize: 1024, pollInterval: 0.02) }

    func otherSource() async throws -> any ChangeSource { JSONLinesSource(path: folder("other.jsonl"), chunkSize: 1024) }

    func recordsInFeed() async throws -> [[UInt8]]? {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        return bytes.split(separator: 0x0A).map { recordBytes(ofLine: Array($0)) }.filter { !$0.isEmpty }
    }
}

/// What a standard-output target prints, caught in a file.
struct StandardOutputFixture: RestoreTargetFixture {
    let folder = TemporaryFolder("stdout-contract")
    var path: String { folder("out.jsonl") }

    init() {
        _ = FileManager.default.createFile(atPath: folder("out.jsonl"), contents: Data())
    }

    func remove() { folder.remove() }

    func target() async throws -> any RestoreTarget {
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else { throw ConformanceFailure("cannot open \(path)") }
        return StandardOutputTarget(output: FileHandle(fileDescriptor: fd, closeOnDealloc: true))
    }

    /// The items printed, one a line.
    func printed() throws -> [Item] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").map { try Item(dynamoJSON: JSONValue.parse(String($0))) }
    }

    func stored(_ n: Int) async throws -> Item? {
        try printed().last { $0["PK"] == .s("ITEM#\(n)") && $0["SK"] == .n("\(n)") }
    }

    func count() async throws -> Int { try printed().count }

    func put(_ item: Item) async throws { throw ConformanceFailure("standard output holds no items to put one into") }

    func unusableTarget() async throws -> (target: any RestoreTarget, name: String) {
        throw ConformanceFailure("standard output is always there")
    }

    var locationNames: String { "standard output" }
}

@Suite("JSON-lines source: the ChangeSource contract")
struct JSONLinesSourceContractTests {
    @Test(arguments: ChangeSourceConformance.Case.allCases)
    func contract(_ contract: ChangeSourceConformance.Case) async throws {
        let fixture = JSONLinesFixture()
        defer { fixture.remove() }
        try await ChangeSourceConformance.check(contract, fixture)
    }
}

@Suite("standard output: the RestoreTarget contract")
struct StandardOutputTargetContractTests {
    /// With no table behind it, nothing exists before a restore and a dry run prints what it would restore.
    @Test(arguments: RestoreTargetConformance.Case.allCases.filter(\.appliesWithoutATable))
    func contract(_ contract: RestoreTargetConformance.Case) async throws {
        let fixture = StandardOutputFixture()
        defer { fixture.remove() }
        try await RestoreTargetConformance.check(contract, fixture)
    }
}
