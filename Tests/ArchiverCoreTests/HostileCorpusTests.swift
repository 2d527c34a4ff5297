import ArchiverCore
import Foundation
import Testing
import TestSupport

/// Runs every record of `fixtures/hostile/` through `RecordProcessor` and checks the outcome that
/// `fixtures/hostile/expected.json` gives for it (see `fixtures/hostile/README.md`).
///
/// An entry with `currently` is a place where the wanted outcome and today's code differ: the test checks that
/// the code still does what `currently` says and records the wanted outcome as a known issue. Once the code is
/// fixed the known issue no longer occurs, Swift Testing reports that, and `currently` must be removed.
@Suite("Hostile corpus")
struct HostileCorpusTests {
    static let folder = URL(fileURLWithPath: PackagePaths.root).appendingPathComponent("fixtures/hostile")

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".jsonl") }.sorted()
    }()

    static let expectations: [String: Expectation] = {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("expected.json").path) else { return [:] }
        return (try? JSONDecoder().decode([String: Expectation].self, from: data)) ?? [:]
    }()

    @Test("the corpus is there: at least 50 records, each with an expectation, each expectation with a file")
    func corpusIsComplete() {
        #expect(Self.files.count >= 50, "fixtures/hostile holds \(Self.files.count) records")
        #expect(!Self.expectations.isEmpty, "fixtures/hostile/expected.json is missing or unreadable")
        for name in Self.files {
            #expect(Self.expectations[name] != nil, "\(name) has no entry in expected.json")
        }
        for name in Self.expectations.keys {
            #expect(Self.files.contains(name), "expected.json names \(name), which is not in fixtures/hostile")
        }
    }

    @Test("each record ends as expected", arguments: files)
    func record(_ name: String) throws {
        let file = try #require(FileManager.default.contents(atPath: Self.folder.appendingPathComponent(name).path), "cannot read \(name)")
        let record = recordBytes(ofLine: Array(file))
        let expected = try #require(Self.expectations[name], "\(name) has no entry in expected.json")
        let observed = Observed(record)
        if let currently = expected.currently {
            #expect(observed.matches(currently),
                    "\(name): expected.json says the code currently gives \(currently), but it gives \(observed); if the code was fixed, remove `currently`")
            withKnownIssue("\(name): wanted \(expected.wanted), the code gives \(observed) (see fixtures/hostile/README.md)") {
                try checkWanted(name, expected.wanted, observed, record)
            }
        } else {
            try checkWanted(name, expected.wanted, observed, record)
        }
    }

    // MARK: Records too large to commit

    @Test("a 10 MB line is archived whole")
    func tenMegabyteLine() throws {
        let value = String(repeating: "x", count: 10 << 20)
        let record = Array(#"{"eventID":"c4ca4238a0b923820dcc509a6f75849b","eventName":"REMOVE","eventVersion":"1.1","eventSource":"aws:dynamodb","awsRegion":"us-east-1","dynamodb":{"ApproximateCreationDateTime":1705314600,"Keys":{"PK":{"S":"USER#123"},"SK":{"S":"PROFILE"}},"OldImage":{"PK":{"S":"USER#123"},"SK":{"S":"PROFILE"},"blob":{"S":""#.utf8)
            + Array(value.utf8) + Array(#""}},"SequenceNumber":"1100000000017454423011","SizeBytes":120,"StreamViewType":"NEW_AND_OLD_IMAGES"}}"#.utf8)
        let observed = Observed(record)
        try checkWanted("10 MB line", .init(outcome: "archived", key: "2024/01/15/USER#123_PROFILE.103000.1100000000017454423011.manual.json.gz"), observed, record)
    }

    @Test("a 10 MB line broken at its very end is dead-lettered")
    func tenMegabyteLineBrokenAtTheEnd() {
        var record = Array(#"{"eventName":"REMOVE","x":""#.utf8) + Array(repeating: UInt8(ascii: "y"), count: 10 << 20)
        record += [0xC3, 0x28, UInt8(ascii: "\""), UInt8(ascii: "}")]
        #expect(Observed(record).code == "invalid-utf8")
    }

    @Test("1,000,000 open brackets are too deep, and nothing overflows")
    func millionOpenBrackets() {
        let record = Array(#"{"eventName":"REMOVE","x":"#.utf8) + Array(repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(Observed(record).code == "too-deep")
        var objects = Array(#"{"eventName":"REMOVE","dynamodb":{"OldImage":"#.utf8)
        for _ in 0..<200_000 { objects += #"{"a":"#.utf8 }
        #expect(Observed(objects).code == "too-deep")
    }

    // MARK: Properties over the corpus

    @Test("every proper prefix of a good record is dead-lettered as truncated")
    func prefixesAreTruncated() throws {
        let file = try #require(FileManager.default.contents(atPath: Self.folder.appendingPathComponent(Self.files.first { $0.hasSuffix("baseline-remove-manual.jsonl") } ?? "").path))
        let record = recordBytes(ofLine: Array(file))
        #expect(Observed(record).outcome == "archived")
        var wrong: [(Int, Observed)] = []
        for length in 1..<record.count {
            let observed = Observed(Array(record[..<length]))
            if observed.code != "truncated-json" { wrong.append((length, observed)) }
        }
        #expect(wrong.isEmpty, "prefixes not reported as truncated: \(wrong.map { "\($0.0) bytes: \($0.1)" })")
    }

    @Test("damaged copies of the corpus never crash, and whatever is archived has a safe name")
    func mutations() throws {
        var random = TestRandom(seed: 0x5EED)
        let processor = RecordProcessor(gzipLevel: 1)
        let interesting: [UInt8] = [0x00, 0x0A, 0x22, 0x2E, 0x2F, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x80, 0xC0, 0xED, 0xEF, 0xFF]
        var archived = 0
        for name in Self.files {
            guard let file = FileManager.default.contents(atPath: Self.folder.appendingPathComponent(name).path), file.count < 8192 else { continue }
            let original = recordBytes(ofLine: Array(file))
            guard !original.isEmpty else { continue }
            for _ in 0..<40 {
                var bytes = original
                for _ in 0...random.below(3) {
                    let at = random.below(bytes.count)
                    switch random.below(4) {
                    case 0: bytes[at] = interesting[random.below(interesting.count)]
                    case 1: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                    case 2: if bytes.count > 1 { bytes.remove(at: at) }
                    default: bytes.insert(interesting[random.below(interesting.count)], at: at)
                    }
                }
                let outcome = bytes.withUnsafeBytes { processor.process($0) }
                if case .archive(let object, _) = outcome {
                    archived += 1
                    #expect(validateArchiveKey(object.key) == nil, "a mutation of \(name) archived under the unsafe key \(object.key)")
                    #expect(try gunzip(object.body) == bytes)
                }
            }
        }
        #expect(archived > 0)
    }
}

// MARK: - Checking one record

/// An outcome as `expected.json` writes it.
struct Expectation: Decodable, Sendable, CustomStringConvertible {
    struct Outcome: Decodable, Sendable, CustomStringConvertible {
        var outcome: String
        var key: String?
        var code: String?

        init(outcome: String, key: String? = nil, code: String? = nil) {
            self.outcome = outcome
            self.key = key
            self.code = code
        }

        var description: String { [outcome, key, code].compactMap { $0 }.joined(separator: " ") }
    }

    var outcome: String
    var key: String?
    var code: String?
    var currently: Outcome?

    var wanted: Outcome { Outcome(outcome: outcome, key: key, code: code) }
    var description: String { wanted.description }
}

/// What `RecordProcessor` made of a record.
struct Observed: CustomStringConvertible {
    var outcome: String
    var key: String?
    var code: String?
    var body: [UInt8] = []
    var kind: DeletionKind?
    var metadata: [String: String] = [:]

    init(_ record: [UInt8], processor: RecordProcessor = RecordProcessor()) {
        switch record.withUnsafeBytes({ processor.process($0) }) {
        case .archive(let object, let kind):
            outcome = "archived"
            key = object.key
            body = object.body
            self.kind = kind
            metadata = object.metadata
        case .passOver:
            outcome = "passed-over"
        case .deadLetter(let error):
            outcome = "dead-letter"
            code = error.code
        }
    }

    func matches(_ expected: Expectation.Outcome) -> Bool {
        outcome == expected.outcome && (expected.key == nil || key == expected.key) && (expected.code == nil || code == expected.code)
    }

    var description: String { [outcome, key, code].compactMap { $0 }.joined(separator: " ") }
}

/// Checks the wanted outcome and, for an archived record, everything a name and an object must be.
func checkWanted(_ name: String, _ wanted: Expectation.Outcome, _ observed: Observed, _ record: [UInt8]) throws {
    #expect(observed.outcome == wanted.outcome, "\(name): wanted \(wanted), got \(observed)")
    switch wanted.outcome {
    case "dead-letter":
        #expect(observed.code == wanted.code, "\(name): wanted dead-letter \(wanted.code ?? "?"), got \(observed)")
    case "archived":
        guard let key = observed.key else { return }
        #expect(key == wanted.key, "\(name): wanted key \(wanted.key ?? "?"), got \(key)")
        #expect(validateArchiveKey(key) == nil, "\(name): \(validateArchiveKey(key) ?? "")")
        #expect(!key.hasPrefix("/"), "\(name): the key is absolute")
        for segment in key.split(separator: "/", omittingEmptySubsequences: false) {
            #expect(segment.utf8.count <= 255, "\(name): a segment of \(segment.utf8.count) bytes")
            #expect(segment != ".." && segment != "." && !segment.isEmpty, "\(name): the segment '\(segment)' in \(key)")
        }
        #expect(key.utf8.count <= 1024, "\(name): the key is \(key.utf8.count) bytes")
        #expect(ArchiveKey(path: key)?.path == key, "\(name): ArchiveKey(path:) does not read \(key) back")
        #expect(try gunzip(observed.body) == record, "\(name): the archived bytes differ from the record")
        let kind = try #require(observed.kind)
        #expect(key.hasSuffix(".\(kind.rawValue).json.gz"))
        #expect(observed.metadata["archiver-kind"] == kind.rawValue)
        // A replay gives the same name and the same bytes.
        let again = Observed(record)
        #expect(again.key == key && again.body == observed.body, "\(name): a replay gives another object")
    default:
        break
    }
}

/// SplitMix64: a small seeded generator for the tests' own choices.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
}
