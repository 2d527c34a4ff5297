import ArchiverCore
import ArgumentParser
import Foundation

extension Archiver {
    /// `archiver lifecycle`: the archive's storage tiers and expiry, as an S3 lifecycle policy says.
    struct Lifecycle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Plan and enforce the archive's lifecycle policy (storage tiers and expiry).",
            discussion: """
                The policy is the JSON that `aws s3api put-bucket-lifecycle-configuration` takes \
                (see lifecycle/README.md). A local folder has no storage classes: plan shows the moves S3 \
                would make, for information; enforce deletes expired objects.
                """,
            subcommands: [Plan.self, Enforce.self])
    }
}

extension Archiver.Lifecycle {
    /// `archiver lifecycle plan`: what the policy does to the archive today.
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show, for each rule, the objects in each storage tier, today's moves, and what has expired.")

        @OptionGroup var archive: ArchiveOption
        @OptionGroup var lifecycle: LifecycleOptions

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Which small objects S3 declines to move, as the bucket is set: "
                    + TransitionMinimumObjectSize.allCases.map(\.rawValue).joined(separator: " or ") + ".",
                valueName: "setting"))
        var transitionDefaultMinimumObjectSize: String = TransitionMinimumObjectSize.allStorageClasses128K.rawValue

        @OptionGroup var output: OutputOption

        func validate() throws {
            try lifecycle.checkArchive(archive.archive)
            guard TransitionMinimumObjectSize(rawValue: transitionDefaultMinimumObjectSize) != nil else {
                throw ValidationError(
                    "--transition-default-minimum-object-size: \"\(transitionDefaultMinimumObjectSize)\" is not a setting; use "
                        + TransitionMinimumObjectSize.allCases.map(\.rawValue).joined(separator: " or "))
            }
        }

        func run() async throws {
            let planner = try lifecycle.planner(
                archive: archive.archive,
                transitionMinimumObjectSize: TransitionMinimumObjectSize(rawValue: transitionDefaultMinimumObjectSize) ?? .allStorageClasses128K)
            let plan = try await planner.plan()
            if output.json {
                try printJSON(plan)
            } else {
                plan.textLines.forEach { print($0) }
            }
        }
    }

    /// `archiver lifecycle enforce`: deletes what has expired.
    struct Enforce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the archive objects past their expiry (transitions are left to S3).")

        @OptionGroup var archive: ArchiveOption
        @OptionGroup var lifecycle: LifecycleOptions
        @Flag(name: .long, help: "List what would be deleted; delete nothing.")
        var dryRun = false
        @OptionGroup var output: OutputOption

        func validate() throws {
            try lifecycle.checkArchive(archive.archive)
            let today = LifecycleDay(containing: Date())
            if !dryRun, let now = lifecycle.now, let day = try? LifecycleDay(parsing: now), day > today {
                throw ValidationError(
                    "--now \(now) is after today (\(today)): enforce deletes for real, and a later day would delete records "
                        + "before their retention ends. Look ahead with --dry-run, or `archiver lifecycle plan --now \(now)`.")
            }
        }

        func run() async throws {
            let planner = try lifecycle.planner(archive: archive.archive)
            let listKeys = dryRun && !output.json
            let result = try await planner.enforce(dryRun: dryRun) { object, rule in
                if listKeys { print("would delete \(object.key)  (\(rule))") }
            }
            if output.json {
                try printJSON(result)
            } else {
                if listKeys && result.expired.objects > 0 { print("") }
                result.textLines.forEach { print($0) }
            }
        }
    }
}

/// `--policy`, `--now`, `--key-prefix`: shared by plan and enforce.
struct LifecycleOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The lifecycle policy (S3 lifecycle JSON). Default: \(LifecyclePolicy.defaultPath) in the working folder, else the built-in default.",
            valueName: "file"))
    var policy: String?

    @Option(name: .long, help: ArgumentHelp("The day to plan for (UTC). Default: today.", valueName: "YYYY-MM-DD"))
    var now: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "What the folder's keys are under in the bucket (e.g. user-service/), so the policy's prefixes match as they would on S3.",
            valueName: "prefix"))
    var keyPrefix: String = ""

    func validate() throws {
        if let now {
            do { _ = try LifecycleDay(parsing: now) } catch { throw ValidationError("--now: \(error)") }
        }
    }

    /// Lifecycle reads local folders for now.
    func checkArchive(_ spec: String) throws {
        switch try ArchiveLocation(spec) {
        case .folder(let path):
            guard FileSystem.isFolder(path) else {
                throw ValidationError("there is no archive folder at '\(path)'; check --archive")
            }
        case .s3:
            throw ValidationError(
                "lifecycle plan and enforce read local archive folders only, for now (S3 archives are not yet supported). "
                    + "On a bucket S3 applies the policy itself: aws s3api put-bucket-lifecycle-configuration --bucket BUCKET "
                    + "--lifecycle-configuration file://\(LifecyclePolicy.defaultPath) (see lifecycle/README.md)")
        case .null:
            throw ValidationError("null: keeps nothing, so it has no lifecycle; give an archive folder")
        }
    }

    /// The planner for the archive, policy and day given.
    func planner(archive spec: String, transitionMinimumObjectSize: TransitionMinimumObjectSize = .allStorageClasses128K) throws -> LifecyclePlanner {
        guard case .folder(let path) = try ArchiveLocation(spec) else { throw ValidationError("give an archive folder") }
        let (policy, source) = try LifecyclePolicy.resolve(path: self.policy, workingFolder: "")
        let day = try now.map(LifecycleDay.init(parsing:))
        let options = LifecyclePlanner.Options(
            transitionMinimumObjectSize: transitionMinimumObjectSize,
            keyPrefix: keyPrefix.isEmpty || keyPrefix.hasSuffix("/") ? keyPrefix : keyPrefix + "/", policySource: source)
        return LifecyclePlanner(store: try LocalArchiveStore(path: path), policy: policy, now: day?.start ?? Date(), options: options)
    }
}

/// Prints a value as JSON (sorted keys, indented).
private func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
