import ArchiverCore
import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import archiver

/// How `archiver cleanup` settles each setting: flag, environment variable, configuration file (a target's own keys,
/// then the section's), default.
@Suite struct CleanupSettingsTests {
    static let file = """
        cleanup:
          uploads-older-than: 12h
          orphans-older-than: 2d
          dry-run: true
          targets:
            - root: s3://user-content/uploads/
              key-pattern: "*/{sessionId}.*"
              owner: dynamodb:UploadSessions
              orphans-older-than: 3d
            - root: s3://user-content/tmp/
              uploads: false
        """

    @Test func theFilesTargetsWithTheirOwnKeysThenTheSectionsThenTheDefaults() throws {
        let configuration = try ArchiverConfiguration.parse(Self.file, file: "c.yml")
        let settings = try CleanupFlags().resolve(configuration, environment: [:])
        #expect(settings.dryRun)
        #expect(settings.targets.count == 2)
        #expect(settings.targets[0].uploads == UploadRule(olderThan: 12 * 3600, abortPartial: false))
        #expect(settings.targets[0].orphans?.olderThan == TimeInterval(3 * 86_400))
        #expect(settings.targets[0].orphans?.owner == .dynamoDB(table: "UploadSessions", attribute: nil))
        #expect(settings.targets[1].uploads == nil && settings.targets[1].orphans == nil)
    }

    @Test func flagsWinAndARootNamedOnTheCommandLineKeepsWhatTheFileSaysOfIt() throws {
        let configuration = try ArchiverConfiguration.parse(Self.file, file: "c.yml")
        var flags = CleanupFlags()
        flags.root = try ArchiveLocation("s3://user-content/uploads")
        flags.uploadsOlderThan = ConfigurationDuration("1h")
        flags.abortPartial = true
        flags.dryRun = false
        let settings = try flags.resolve(configuration, environment: [:])
        #expect(!settings.dryRun)
        #expect(settings.targets.count == 1)
        #expect(settings.targets[0].uploads == UploadRule(olderThan: 3600, abortPartial: true))
        #expect(settings.targets[0].orphans?.olderThan == TimeInterval(3 * 86_400), "the file's key for this root")
        #expect(settings.targets[0].orphans?.pattern.ownerID(in: "2024-01-01/abc.mp4") == "abc")

        // Another root takes the section's thresholds and the default for what the file does not say.
        flags.root = try ArchiveLocation("s3://user-content/other/")
        flags.uploadsOlderThan = nil
        let other = try flags.resolve(configuration, environment: [:])
        #expect(other.targets[0].uploads?.olderThan == 12 * 3600 && other.targets[0].orphans == nil)
        #expect(try flags.resolve(ArchiverConfiguration(), environment: [:]).targets[0].uploads?.olderThan == 86_400)
    }

    @Test func theStateFolderComesFromTheFlagTheEnvironmentTheFileOrADefaultThatExists() throws {
        let folder = TemporaryFolder("cleanup-settings")
        defer { folder.remove() }
        for name in ["flag", "env", "file"] { try FileManager.default.createDirectory(atPath: folder(name), withIntermediateDirectories: true) }
        var configuration = ArchiverConfiguration()
        configuration.state = folder("file")
        var flags = CleanupFlags()
        #expect(try flags.resolve(configuration, environment: ["ARCHIVER_STATE": folder("env")]).stateFolder == folder("env"))
        #expect(try flags.resolve(configuration, environment: [:]).stateFolder == folder("file"))
        flags.state = folder("flag")
        #expect(try flags.resolve(configuration, environment: ["ARCHIVER_STATE": folder("env")]).stateFolder == folder("flag"))
        // A named folder that is not there is an error; the default one is simply not used.
        flags.state = folder("missing")
        #expect(throws: ValidationError.self) { try flags.resolve(configuration, environment: [:]) }
        flags.state = nil
        flags.root = try ArchiveLocation("s3://b/p/")
        #expect(try flags.resolve(ArchiverConfiguration(), environment: [:]).stateFolder == nil || FileSystem.isFolder(".archiver"))
    }

    @Test(arguments: [
        ("s3://b/uploads/", "s3://b/", true), ("s3://b/uploads/", "s3://b/uploads/archive/", true), ("s3://b/uploads/", "s3://b/uploadsx/", false),
        ("s3://b/uploads/", "s3://c/uploads/", false), ("/srv/files", "/srv/files/archive", true), ("/srv/files", "/srv/filesx", false),
        ("/srv/files/a", "/srv/files", true), ("s3://b/uploads/", "/srv/files", false),
    ])
    func overlapsBetweenARootAndArchiversOwnFolders(root: String, other: String, overlaps: Bool) throws {
        #expect(CleanupFlags.overlap(try ArchiveLocation(root), try ArchiveLocation(other)) == overlaps)
    }
}
