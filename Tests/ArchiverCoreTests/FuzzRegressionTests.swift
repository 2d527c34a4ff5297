import ArchiverCore
import Foundation
import RecordFuzzing
import Testing
import TestSupport

/// Replays what the fuzz target (`scripts/fuzz`) checks on every input: the inputs it found failing, kept in
/// `fixtures/fuzz/` with the outcome each must have now (`expected.json`), and the seed corpus it starts from.
@Suite("Fuzz regressions")
struct FuzzRegressionTests {
    static let folder = URL(fileURLWithPath: PackagePaths.root).appendingPathComponent("fixtures/fuzz")

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".jsonl") }.sorted()
    }()

    static let expectations: [String: String] = {
        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent("expected.json").path) else { return [:] }
        return (try? JSONDecoder().decode([String: String].self, from: data)) ?? [:]
    }()

    @Test func everyInputHasAnExpectedOutcome() {
        #expect(!Self.files.isEmpty, "fixtures/fuzz holds no inputs")
        #expect(Set(Self.files) == Set(Self.expectations.keys), "fixtures/fuzz/expected.json and the files differ")
    }

    /// The input as the fuzzer gave it (whole file, no trimming): the checks pass and the outcome is the expected one.
    @Test("each fuzz finding now passes every check", arguments: files)
    func finding(_ name: String) throws {
        let bytes = try #require(FileManager.default.contents(atPath: Self.folder.appendingPathComponent(name).path))
        let check = RecordPathCheck()
        #expect(check.check(Array(bytes)) == nil, "\(name): \(check.check(Array(bytes)) ?? "")")
        let outcome = check.lastOutcome
        let expected = try #require(Self.expectations[name])
        #expect(outcome == expected || outcome.hasPrefix(expected + " "), "\(name): wanted \(expected), got \(outcome)")
    }

    @Test func theSeedCorpusPassesEveryCheck() throws {
        let check = RecordPathCheck()
        var inputs: [(String, [UInt8])] = []
        let feed = try #require(FileManager.default.contents(atPath: URL(fileURLWithPath: PackagePaths.root).appendingPathComponent("fixtures/feed.jsonl").path))
        for (number, line) in Array(feed).split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            inputs.append(("feed.jsonl line \(number + 1)", Array(line)))
        }
        let hostile = URL(fileURLWithPath: PackagePaths.root).appendingPathComponent("fixtures/hostile")
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: hostile.path)) ?? []).sorted() where name.hasSuffix(".jsonl") {
            inputs.append((name, Array(FileManager.default.contents(atPath: hostile.appendingPathComponent(name).path) ?? Data())))
        }
        #expect(inputs.count > 500)
        var failures: [String] = []
        var archived = 0
        for (name, bytes) in inputs {
            if let problem = check.check(bytes) { failures.append("\(name): \(problem)") }
            if check.lastOutcome.hasPrefix("archived") { archived += 1 }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        #expect(archived >= 146)
    }

    @Test func theChecksCatchWhatTheyAreFor() {
        let check = RecordPathCheck()
        // Foundation reads this object; a scanner calling it malformed would be reported.
        #expect(check.check(Array(#"{"eventName":"REMOVE","x":[1,2,{"y":null}]}"#.utf8)) == nil)
        #expect(check.lastOutcome.hasPrefix("dead-letter"))
        #expect(RecordPathCheck.syntaxCodes.contains("malformed-json"))
        #expect(!RecordPathCheck.syntaxCodes.contains("no-old-image"))
    }
}
