import ArchiverAWS
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
                would make, for information; enforce deletes expired objects. On an S3 archive, apply sets the \
                policy as the bucket's lifecycle configuration (S3 then moves and expires objects itself) and show \
                prints the configuration the bucket has.
                """,
            subcommands: [Plan.self, Enforce.self, Apply.self, Show.self])
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
            let planner = try lifecycle.planner(archive: archive.archive, deletes: !dryRun)
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

extension Archiver.Lifecycle {
    /// `archiver lifecycle apply`: the policy becomes the bucket's lifecycle configuration.
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the policy as the S3 bucket's lifecycle configuration (replaces all of the bucket's rules).")

        @OptionGroup var archive: ArchiveOption
        @Option(
            name: .long,
            help: ArgumentHelp(
                "The lifecycle policy (S3 lifecycle JSON). Default: \(LifecyclePolicy.defaultPath) in the working folder, else the built-in default.",
                valueName: "file"))
        var policy: String?

        func validate() throws {
            try requireBucket(archive.archive, command: "apply")
        }

        func run() async throws {
            let location = try ArchiveLocation(archive.archive)
            let wiring = Wiring(logger: Terminal.logger)
            let bucket = try BucketLifecycle(location: location, client: try wiring.s3Client(for: location))
            let (json, source) = try BucketLifecycle.policyJSON(path: policy)
            let existing = try await bucket.currentRuleCount()
            warn(
                "warning: PutBucketLifecycleConfiguration replaces the whole lifecycle configuration of bucket '\(bucket.bucket)'"
                    + (existing > 0 ? " (its \(existing) rule\(existing == 1 ? "" : "s") now are discarded)" : "")
                    + "; rules for other prefixes must be in the policy too")
            if !bucket.prefix.isEmpty {
                warn("note: the policy's prefixes match whole bucket keys; this archive's keys start with '\(bucket.prefix)'")
            }
            try await bucket.apply(json: json)
            print("applied \(source) to s3://\(bucket.bucket)")
        }
    }

    /// `archiver lifecycle show`: the bucket's lifecycle configuration.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the S3 bucket's lifecycle configuration as JSON.")

        @OptionGroup var archive: ArchiveOption

        func validate() throws {
            try requireBucket(archive.archive, command: "show")
        }

        func run() async throws {
            let location = try ArchiveLocation(archive.archive)
            let wiring = Wiring(logger: Terminal.logger)
            let bucket = try BucketLifecycle(location: location, client: try wiring.s3Client(for: location))
            guard let json = try await bucket.show() else {
                warn("bucket '\(bucket.bucket)' has no lifecycle configuration; `archiver lifecycle apply` sets one")
                print(#"{"Rules": []}"#)
                return
            }
            print(String(decoding: json, as: UTF8.self))
        }
    }
}

/// apply and show work on buckets only.
private func requireBucket(_ spec: String, command: String) throws {
    guard case .s3 = try ArchiveLocation(spec) else {
        throw ValidationError(
            "lifecycle \(command) works on an S3 bucket (--archive s3://bucket); a local folder has no lifecycle configuration: "
                + "use `archiver lifecycle enforce` to delete what has expired")
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

    /// Lifecycle reads local folders and S3 archives.
    func checkArchive(_ spec: String) throws {
        switch try ArchiveLocation(spec) {
        case .folder(let path):
            guard FileSystem.isFolder(path) else {
                throw ValidationError("there is no archive folder at '\(FileSystem.absolute(path))'; check --archive")
            }
        case .s3:
            if !keyPrefix.isEmpty {
                throw ValidationError("--key-prefix is for local folders; on S3 the prefix of --archive is the key prefix")
            }
        case .null:
            throw ValidationError("null: keeps nothing, so it has no lifecycle; give an archive folder")
        }
    }

    /// The planner for the archive, policy and day given.
    /// - Parameter deletes: whether the planner will delete expired objects (`enforce` without `--dry-run`).
    func planner(archive spec: String, transitionMinimumObjectSize: TransitionMinimumObjectSize = .allStorageClasses128K, deletes: Bool = false) throws -> LifecyclePlanner {
        let location = try ArchiveLocation(spec)
        let (policy, source) = try LifecyclePolicy.resolve(path: self.policy, workingFolder: "")
        let day = try now.map(LifecycleDay.init(parsing:))
        let options: LifecyclePlanner.Options
        let store: any ArchiveStore
        switch location {
        case .folder(let path):
            store = try LocalArchiveStore(path: path, access: deletes ? .existing : .readOnly)
            options = LifecyclePlanner.Options(
                transitionMinimumObjectSize: transitionMinimumObjectSize,
                keyPrefix: keyPrefix.isEmpty || keyPrefix.hasSuffix("/") ? keyPrefix : keyPrefix + "/", policySource: source)
        case .s3(_, let prefix):
            // S3 counts an object's age from its creation (last-modified) and keeps storage classes.
            store = try Wiring(logger: Terminal.logger).store(location)
            options = LifecyclePlanner.Options(
                ageBasis: .lastModified, transitionMinimumObjectSize: transitionMinimumObjectSize, keyPrefix: prefix,
                storageClasses: true, policySource: source)
        case .null:
            throw ValidationError("null: keeps nothing, so it has no lifecycle; give an archive folder")
        }
        return LifecyclePlanner(store: store, policy: policy, now: day?.start ?? Date(), options: options)
    }
}

/// Prints a value as JSON (sorted keys, indented).
private func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A line for people on standard error.
private func warn(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
