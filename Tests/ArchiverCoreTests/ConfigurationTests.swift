import ArchiverCore
import Foundation
import Testing

@Suite("Configuration file: reading, errors, precedence")
struct ConfigurationTests {
    @Test func readsYAMLAndTheSameDocumentAsJSON() throws {
        let yaml = try ArchiverConfiguration.parse("state: st\narchive: s3://b/p\nsources:\n  - jsonl:a.jsonl\n  - sqlite:app.db\n", file: "a.yml")
        let json = try ArchiverConfiguration.parse(#"{"state": "st", "archive": "s3://b/p", "sources": ["jsonl:a.jsonl", "sqlite:app.db"]}"#, file: "a.json")
        for configuration in [yaml, json] {
            #expect(configuration.state == "st")
            #expect(configuration.archive == "s3://b/p")
            #expect(configuration.sources == ["jsonl:a.jsonl", "sqlite:app.db"])
        }
    }

    @Test func anEmptyFileIsEveryDefault() throws {
        let configuration = try ArchiverConfiguration.parse("# nothing yet\n", file: "e.yml")
        #expect(configuration.state == nil && configuration.archive == nil && configuration.sources.isEmpty)
        #expect(configuration.described["state"] == .string(ArchiverConfiguration.defaultState))
    }

    @Test func anUnknownKeyIsRefusedWithItsLineAndTheNearestKnownKey() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ArchiverConfiguration.parse("state: st\narchve: ./archive\n", file: "typo.yml")
        }
        #expect(error?.kind == .unknownKey)
        #expect(error?.line == 2)
        #expect(error?.description.contains("typo.yml:2") == true)
        #expect(error?.description.contains("did you mean 'archive'?") == true, "\(String(describing: error))")
    }

    @Test func aWrongTypeSaysWhatWasExpectedAndFound() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ArchiverConfiguration.parse("state:\n  - a\n  - b\n", file: "t.yml")
        }
        #expect(error?.kind == .wrongType)
        #expect(error?.description.contains("expected a text value, found a list") == true, "\(String(describing: error))")
    }

    @Test func brokenSyntaxAndRepeatedKeysAreRefused() throws {
        let syntax = #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.parse("state: [unclosed\n", file: "s.yml") }
        #expect(syntax?.kind == .syntax)
        #expect(syntax?.description.contains("line") == true, "\(String(describing: syntax))")
        let twice = #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.parse("state: a\nstate: b\n", file: "d.yml") }
        #expect(twice?.description.contains("state") == true, "\(String(describing: twice))")
    }

    @Test func aMissingFileNamesItsAbsolutePath() throws {
        let error = #expect(throws: ConfigurationError.self) { try ArchiverConfiguration.load(path: "no-such-archiver.yml") }
        #expect(error?.kind == .unreadable)
        #expect(error?.description.contains(FileManager.default.currentDirectoryPath + "/no-such-archiver.yml") == true)
    }

    @Test(arguments: [("500ms", 0.5), ("90s", 90.0), ("5m", 300.0), ("1h", 3600.0), ("30d", 2_592_000.0), ("12", 12.0), ("1.5h", 5400.0)])
    func durations(text: String, seconds: Double) throws {
        #expect(ConfigurationDuration(text)?.seconds == seconds)
    }

    @Test(arguments: ["", "m", "-5m", "5 minutes", "1w"])
    func notDurations(text: String) {
        #expect(ConfigurationDuration(text) == nil)
    }

    @Test func flagsOverrideTheEnvironmentWhichOverridesTheFileWhichOverridesTheDefault() {
        let environment = ["ARCHIVER_STATE": "from-env"]
        #expect(Setting.resolve(flag: "from-flag", variable: "ARCHIVER_STATE", environment: environment, file: "from-file", fallback: "d").value == "from-flag")
        let env = Setting.resolve(flag: nil, variable: "ARCHIVER_STATE", environment: environment, file: "from-file", fallback: "d")
        #expect(env.value == "from-env" && env.origin == .environment)
        let file = Setting.resolve(flag: nil, variable: "ARCHIVER_STATE", environment: [:], file: "from-file", fallback: "d")
        #expect(file.value == "from-file" && file.origin == .file)
        let fallback = Setting.resolve(flag: nil, variable: "ARCHIVER_STATE", environment: [:], file: nil, fallback: "d")
        #expect(fallback.value == "d" && fallback.origin == .default)
    }
}
