import ArchiverCore
import Foundation
import Testing
import TestSupport

/// Every example configuration in fixtures/config/ reads, and says what its README says it does.
@Suite("Example configuration files")
struct ConfigExampleTests {
    static let folder = PackagePaths.fixture("config")

    @Test func everyExampleReads() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder).filter { $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
        #expect(files.count >= 2)
        for file in files {
            let configuration = try ArchiverConfiguration.load(path: Self.folder + "/" + file)
            // Each example shows something: deletion rules, or what cleanup cleans.
            #expect(!configuration.rules.rules.isEmpty || !configuration.cleanup.targets.isEmpty, "\(file) has neither rules nor cleanup targets")
        }
    }

    @Test func theErasureExample() throws {
        let configuration = try ArchiverConfiguration.load(path: Self.folder + "/erasure.yml")
        #expect(configuration.indexesSubjects && configuration.rules.rules.allSatisfy { $0.subject != nil && $0.actions.isEmpty })
        let actions = ErasurePlan.actions(for: "123", erasure: configuration.erasure, roots: configuration.roots)
        #expect(actions.map(\.target) == [.prefix(prefix: "users/123/", minDepth: 2, keep: false)] && actions[0].unsafe == nil)
        #expect(ErasurePlan.actions(for: "..", erasure: configuration.erasure, roots: configuration.roots)[0].unsafe != nil)
    }

    @Test func theUploadsExample() throws {
        let configuration = try ArchiverConfiguration.load(path: Self.folder + "/uploads.yml")
        #expect(configuration.roots["uploads"] == .s3(bucket: "user-content", prefix: "uploads/"))
        #expect(configuration.rules.rules.map(\.name) == ["upload-files", "unfinished-uploads", "user-folders"])
        #expect(configuration.rules.rules[0].actions == [.deleteObject(root: "uploads", key: try Template("{OldImage.key.S}"), keep: true)])
        #expect(configuration.queue.batchSize == 500 && configuration.queue.maxAttempts == 3)
    }

    @Test func theLocalExampleInJSON() throws {
        let configuration = try ArchiverConfiguration.load(path: Self.folder + "/local-files.json")
        #expect(configuration.roots["photos"] == .folder("/srv/app/photos"))
        #expect(configuration.queue.delay.seconds == 600)
        #expect(configuration.rules.rules[1].conditions.first?.description == "OldImage.shared.BOOL == false")
    }
}
