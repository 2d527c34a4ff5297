import ArchiverCore
import ArgumentParser
import Foundation

/// What one `archiver cleanup` cleans, with every setting resolved: flag, then environment variable, then the
/// configuration file (a target's own keys, then the section's), then the default.
struct CleanupSettings: Equatable {
    struct Target: Equatable {
        var location: ArchiveLocation
        /// Nil: multipart uploads are left alone (a folder has none).
        var uploads: UploadRule?
        var orphans: Orphans?
    }

    struct Orphans: Equatable {
        var pattern: OwnerKeyPattern
        var owner: OwnerSpec
        var olderThan: TimeInterval
    }

    var targets: [Target] = []
    /// A local archive folder whose `.tmp/` leftovers are removed.
    var archiveFolder: String?
    /// The state folder (dead letters, their `.tmp/`, the deletion queue).
    var stateFolder: String?
    var syncJSONLines: [String] = []
    var deadLetterRetention: TimeInterval?
    var queueRetention: TimeInterval?
    var dryRun = false
    var metricsFile: String?

    /// Where `--state` comes from when nothing names one: used only if it exists.
    static let defaultState = ArchiverConfiguration.defaultState
}

/// The values the command line gave (nil: not given).
struct CleanupFlags {
    var root: ArchiveLocation?
    var keyPattern: String?
    var keyRegex: String?
    var owner: OwnerSpec?
    var orphansOlderThan: ConfigurationDuration?
    var uploadsOlderThan: ConfigurationDuration?
    var abortPartial: Bool?
    var uploads: Bool?
    var archive: ArchiveLocation?
    var state: String?
    var syncJSONLines: [String] = []
    var deadLettersOlderThan: ConfigurationDuration?
    var queueCompletedOlderThan: ConfigurationDuration?
    var dryRun: Bool?
    var metricsFile: String?

    /// Resolves every setting.
    /// - Throws: `ValidationError` saying what is missing or contradictory and what to write.
    func resolve(_ file: ArchiverConfiguration, environment: [String: String]) throws -> CleanupSettings {
        let section = file.cleanup
        var settings = CleanupSettings()
        settings.dryRun = dryRun ?? section.dryRun ?? false
        settings.metricsFile = metricsFile ?? section.metricsFile
        settings.syncJSONLines = syncJSONLines.isEmpty ? section.syncJSONLines : syncJSONLines
        settings.deadLetterRetention = (deadLettersOlderThan ?? section.deadLettersOlderThan)?.seconds
        settings.queueRetention = (queueCompletedOlderThan ?? section.queueCompletedOlderThan)?.seconds

        if keyPattern != nil && keyRegex != nil { throw ValidationError("give --key-pattern or --key-regex, not both") }
        var pattern: OwnerKeyPattern?
        do {
            if let keyPattern { pattern = try OwnerKeyPattern(template: keyPattern) }
            if let keyRegex { pattern = try OwnerKeyPattern(regex: keyRegex) }
        } catch let error as OwnerKeyPatternError {
            throw ValidationError("\(keyPattern != nil ? "--key-pattern" : "--key-regex"): \(error)")
        }
        if (pattern != nil || owner != nil) && root == nil {
            throw ValidationError("--key-pattern, --key-regex and --owner apply to a root: name it (archiver cleanup s3://bucket/prefix/ --key-pattern … --owner …)")
        }

        // The targets: the one named, on top of what the file says of the same root; or the file's.
        let configured: [CleanupConfiguration.Target]
        if let root {
            if let known = section.targets.first(where: { $0.location == root }) {
                configured = [known]
            } else {
                configured = [try CleanupConfiguration.Target(root: root.description)]
            }
        } else {
            configured = section.targets
        }
        for target in configured {
            var chosenPattern = target.keyPattern
            var chosenOwner = target.owner
            if pattern != nil || owner != nil {
                guard let pattern, let owner else {
                    throw ValidationError(
                        pattern == nil
                            ? "--owner needs --key-pattern (or --key-regex): where the owner's id is in each key, e.g. --key-pattern '*/{sessionId}.*'"
                            : "--key-pattern needs --owner: the table owners are looked up in (dynamodb:<table>[#<attribute>] or sqlite:<db>#<table>#<column>)")
                }
                chosenPattern = pattern
                chosenOwner = owner
            }
            var resolved = CleanupSettings.Target(location: target.location)
            if target.location.isS3, uploads ?? target.uploads {
                let olderThan = uploadsOlderThan ?? target.uploadsOlderThan ?? section.uploadsOlderThan ?? CleanupConfiguration.defaultUploadsOlderThan
                resolved.uploads = UploadRule(olderThan: olderThan.seconds, abortPartial: abortPartial ?? target.abortPartial ?? section.abortPartial ?? false)
            }
            if let chosenPattern, let chosenOwner {
                let olderThan = orphansOlderThan ?? target.orphansOlderThan ?? section.orphansOlderThan ?? CleanupConfiguration.defaultOrphansOlderThan
                resolved.orphans = CleanupSettings.Orphans(pattern: chosenPattern, owner: chosenOwner, olderThan: olderThan.seconds)
            }
            settings.targets.append(resolved)
        }

        // archiver's own folders: named ones must exist; the default state folder is used when it does.
        var archiveLocation: (ArchiveLocation, SettingOrigin)?
        do {
            if let archive {
                archiveLocation = (archive, .flag)
            } else if let text = environment["ARCHIVER_ARCHIVE"], !text.isEmpty {
                archiveLocation = (try ArchiveLocation(text), .environment)
            } else if let text = file.archive {
                archiveLocation = (try ArchiveLocation(text), .file)
            }
        } catch {
            throw ValidationError("the archive: \(error)")
        }
        if let (location, origin) = archiveLocation, case .folder(let path) = location {
            guard FileSystem.isFolder(path) else {
                throw ValidationError(
                    "there is no archive folder at '\(FileSystem.absolute(path))' (from \(origin.describing(flag: "--archive", variable: "ARCHIVER_ARCHIVE"))); check it")
            }
            settings.archiveFolder = FileSystem.absolute(path)
        }
        let state = Setting.resolve(flag: state, variable: "ARCHIVER_STATE", environment: environment, file: file.state, fallback: CleanupSettings.defaultState)
        if FileSystem.isFolder(state.value) {
            settings.stateFolder = FileSystem.absolute(state.value)
        } else if state.origin != .default {
            throw ValidationError("there is no state folder at '\(FileSystem.absolute(state.value))' (from \(state.origin.describing(flag: "--state", variable: "ARCHIVER_STATE"))); check it")
        }
        if settings.stateFolder == nil, settings.deadLetterRetention != nil || settings.queueRetention != nil {
            throw ValidationError(
                "dead-letter and queue retentions apply to a state folder, and there is none at '\(FileSystem.absolute(state.value))'; name it with --state")
        }

        if settings.targets.isEmpty && archiveLocation == nil && state.origin == .default && settings.syncJSONLines.isEmpty {
            throw ValidationError(
                "nothing to clean: name a root (archiver cleanup s3://bucket/prefix/ --key-pattern … --owner …), list targets under "
                    + "cleanup: in the configuration file, or name archiver's own folders (--state, --archive, --sync-jsonl)")
        }
        try checkOverlap(settings, archive: archiveLocation?.0)
        return settings
    }

    /// A root must not hold, or lie inside, the archive or the state folder: cleanup would judge archived records (or
    /// archiver's state) as orphans.
    private func checkOverlap(_ settings: CleanupSettings, archive: ArchiveLocation?) throws {
        for target in settings.targets {
            var guarded: [(String, ArchiveLocation)] = []
            if let archive { guarded.append(("the archive", archive)) }
            if let state = settings.stateFolder { guarded.append(("the state folder", .folder(state))) }
            for (name, location) in guarded where Self.overlap(target.location, location) {
                throw ValidationError(
                    "the cleanup root \(target.location) overlaps \(name) (\(location)); cleanup would treat archiver's own files as orphans. "
                        + "Give a root that holds the application's files only")
            }
        }
    }

    static func overlap(_ a: ArchiveLocation, _ b: ArchiveLocation) -> Bool {
        switch (a, b) {
        case (.s3(let bucketA, let prefixA), .s3(let bucketB, let prefixB)):
            return bucketA == bucketB && (prefixA.hasPrefix(prefixB) || prefixB.hasPrefix(prefixA))
        case (.folder(let pathA), .folder(let pathB)):
            let x = FileSystem.absolute(pathA) + "/", y = FileSystem.absolute(pathB) + "/"
            return x.hasPrefix(y) || y.hasPrefix(x)
        default:
            return false
        }
    }
}

extension SettingOrigin {
    /// Where a setting came from, for messages: `--state`, `ARCHIVER_STATE`, `the configuration file`.
    func describing(flag: String, variable: String) -> String {
        switch self {
        case .flag: flag
        case .environment: variable
        case .file: "the configuration file"
        case .default: "the default"
        }
    }
}

/// `--orphans-older-than 24h`, …: a duration.
extension ConfigurationDuration: CommandLineValue {
    init(commandLine text: String) throws {
        guard let duration = ConfigurationDuration(text) else {
            throw ValidationError("'\(text)' is not a duration; write e.g. 90s, 30m, 24h or 90d")
        }
        self = duration
    }
}

/// `--owner dynamodb:<table>[#<attribute>]` or `sqlite:<db>#<table>#<column>`.
extension OwnerSpec: CommandLineValue {
    init(commandLine text: String) throws { try self.init(text) }
}
