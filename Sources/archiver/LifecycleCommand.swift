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
                prints the configuration the bucket has. Sizes are in binary units (1 KiB = 1,024 bytes), as S3 \
                counts its 128 KB transition minimum.

                EXAMPLES:
                  archiver lifecycle plan --archive ./archive --policy lifecycle/default.json
                  archiver lifecycle enforce --archive ./archive --dry-run
                  archiver lifecycle apply --archive s3://archives \\
                      --policy lifecycle/default.json
                  archiver lifecycle show --archive s3://archives
                """,
            subcommands: [Plan.self, Enforce.self, Apply.self, Show.self])
    }
}

extension Archiver.Lifecycle {
    /// `archiver lifecycle plan`: what the policy does to the archive today.
    struct Plan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show, for each rule, the objects in each storage tier, today's moves, and what has expired.",
            discussion: """
                Reads the archive's keys and sizes and changes nothing. On S3 an object's age counts from its \
                creation, as S3 counts it; in a folder, from the deletion time in its name. Then compares what the \
                archive's records cost per month in PUT requests and lifecycle transitions as per-record objects and \
                as batched objects (the layout the archive is not in is worked out from its objects' sizes and times).

                EXAMPLES:
                  archiver lifecycle plan --archive ./archive
                  archiver lifecycle plan --archive ./copy --key-prefix user-service/ \\
                      --now 2031-01-01
                  archiver lifecycle plan --archive s3://archives/users --json
                  archiver lifecycle plan --archive ./archive --prices eu-west-1-prices.json
                """)

        @OptionGroup var archive: ArchiveOption
        @OptionGroup var lifecycle: LifecycleOptions

        @Option(
            name: .long,
            help: ArgumentHelp(
                "Which small objects S3 declines to move, as the bucket is set: "
                    + TransitionMinimumObjectSize.allCases.map(\.rawValue).joined(separator: " or ") + ".",
                valueName: "setting"))
        var transitionDefaultMinimumObjectSize = Parsed<TransitionMinimumObjectSize>(
            argument: TransitionMinimumObjectSize.allStorageClasses128K.rawValue)

        @Option(name: .long, help: ArgumentHelp(
            "S3 request prices for the layout comparison (JSON: source, put_per_1000, transition_per_1000 by storage class). Default: S3's us-east-1 list prices of 2024.",
            valueName: "file"))
        var prices: String?

        @OptionGroup var output: OutputOption

        func validate() throws {
            try lifecycle.checkArchive(try archive.location)
            _ = try transitionDefaultMinimumObjectSize.value("--transition-default-minimum-object-size")
        }

        func run() async throws {
            var planner = try lifecycle.planner(
                archive: try archive.location,
                transitionMinimumObjectSize: try transitionDefaultMinimumObjectSize.value("--transition-default-minimum-object-size"))
            if let prices {
                do {
                    planner.options.prices = try S3RequestPrices.load(path: prices)
                } catch let error as PriceTableError {
                    throw ValidationError("--prices: \(error)")
                }
            }
            let plan = try await planner.plan()
            if output.json {
                try Terminal.printJSON(plan)
            } else {
                plan.textLines.forEach(Terminal.print)
            }
        }
    }

    /// `archiver lifecycle enforce`: deletes what has expired.
    struct Enforce: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the archive objects past their expiry (transitions are left to S3).",
            discussion: """
                --now may name a later day only with --dry-run: a later day would delete records before their \
                retention ends.

                EXAMPLES:
                  archiver lifecycle enforce --archive ./archive --dry-run
                  archiver lifecycle enforce --archive ./archive \\
                      --policy lifecycle/default.json
                  archiver lifecycle enforce --archive s3://archives/users \\
                      --now 2031-06-01 --dry-run --json
                """)

        @OptionGroup var archive: ArchiveOption
        @OptionGroup var lifecycle: LifecycleOptions
        @Flag(name: .long, help: "List what would be deleted; delete nothing.")
        var dryRun = false
        @OptionGroup var output: OutputOption

        func validate() throws {
            try lifecycle.checkArchive(try archive.location)
            let today = LifecycleDay(containing: Date())
            if !dryRun, let day = try lifecycle.day, day > today {
                throw ValidationError(
                    "--now \(day) is after today (\(today)): enforce deletes for real, and a later day would delete records "
                        + "before their retention ends. Look ahead with --dry-run, or `archiver lifecycle plan --now \(day)`.")
            }
        }

        func run() async throws {
            let planner = try lifecycle.planner(archive: try archive.location, deletes: !dryRun)
            let listKeys = dryRun && !output.json
            let result = try await planner.enforce(dryRun: dryRun) { object, rule in
                if listKeys { Terminal.print("would delete \(object.key)  (\(rule))") }
            }
            if output.json {
                try Terminal.printJSON(result)
            } else {
                if listKeys && result.expired.objects > 0 { Terminal.print("") }
                result.textLines.forEach(Terminal.print)
            }
        }
    }
}

extension Archiver.Lifecycle {
    /// `archiver lifecycle apply`: the policy becomes the bucket's lifecycle configuration.
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the policy as the S3 bucket's lifecycle configuration (replaces all of the bucket's rules).",
            discussion: """
                PutBucketLifecycleConfiguration replaces the bucket's whole configuration: rules for other prefixes \
                must be in the policy too (`archiver lifecycle show` prints what the bucket has now).

                EXAMPLES:
                  archiver lifecycle show --archive s3://archives > before.json
                  archiver lifecycle apply --archive s3://archives \\
                      --policy lifecycle/default.json
                """)

        @OptionGroup var archive: ArchiveOption
        @OptionGroup var policy: PolicyOption

        func validate() throws {
            try requireBucket(try archive.location, command: "apply")
        }

        func run() async throws {
            let bucket = try bucketLifecycle(archive)
            let (chosen, source) = try LifecyclePolicy.resolve(path: policy.policy, workingFolder: "")
            let existing = try await bucket.currentRuleCount()
            Terminal.printError(
                "warning: PutBucketLifecycleConfiguration replaces the whole lifecycle configuration of bucket '\(bucket.bucket)'"
                    + (existing > 0 ? " (its \(existing) rule\(existing == 1 ? "" : "s") now are discarded)" : "")
                    + "; rules for other prefixes must be in the policy too")
            if !bucket.prefix.isEmpty {
                Terminal.printError("note: the policy's prefixes match whole bucket keys; this archive's keys start with '\(bucket.prefix)'")
            }
            try await bucket.apply(chosen)
            Terminal.print("applied \(source) to s3://\(bucket.bucket)")
        }
    }

    /// `archiver lifecycle show`: the bucket's lifecycle configuration.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the S3 bucket's lifecycle configuration as JSON.",
            discussion: """
                The JSON is what `aws s3api get-bucket-lifecycle-configuration` prints and `lifecycle apply --policy` \
                takes; a bucket without a configuration prints {"Rules": []}.

                EXAMPLES:
                  archiver lifecycle show --archive s3://archives
                """)

        @OptionGroup var archive: ArchiveOption

        func validate() throws {
            try requireBucket(try archive.location, command: "show")
        }

        func run() async throws {
            let bucket = try bucketLifecycle(archive)
            guard let json = try await bucket.show() else {
                Terminal.printError("bucket '\(bucket.bucket)' has no lifecycle configuration; `archiver lifecycle apply` sets one")
                Terminal.print(#"{"Rules": []}"#)
                return
            }
            Terminal.print(String(decoding: json, as: UTF8.self))
        }
    }
}

/// The lifecycle configuration of an S3 archive's bucket, for apply and show.
private func bucketLifecycle(_ archive: ArchiveOption) throws -> BucketLifecycle {
    let location = try archive.location
    return try BucketLifecycle(location: location, client: try Wiring(logger: Terminal.logger).s3Client(for: location))
}

/// apply and show work on buckets only.
private func requireBucket(_ location: ArchiveLocation, command: String) throws {
    guard case .s3 = location else {
        throw ValidationError(
            "lifecycle \(command) works on an S3 bucket (--archive s3://bucket); a local folder has no lifecycle configuration: "
                + "use `archiver lifecycle enforce` to delete what has expired")
    }
}

/// `--policy`: the lifecycle policy file, for plan, enforce and apply.
struct PolicyOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The lifecycle policy (S3 lifecycle JSON). Default: \(LifecyclePolicy.defaultPath) in the working folder, else the built-in default.",
            valueName: "file"))
    var policy: String?
}

/// `--policy`, `--now`, `--key-prefix`: shared by plan and enforce.
struct LifecycleOptions: ParsableArguments {
    @OptionGroup var policy: PolicyOption

    @Option(name: .long, help: ArgumentHelp("The day to plan for (UTC). Default: today.", valueName: "YYYY-MM-DD"))
    var now: Parsed<LifecycleDay>?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "What the folder's keys are under in the bucket (e.g. user-service/), so the policy's prefixes match as they would on S3.",
            valueName: "prefix"))
    var keyPrefix: String = ""

    func validate() throws {
        _ = try day
    }

    /// The day of `--now`, if given.
    var day: LifecycleDay? {
        get throws { try now?.value("--now") }
    }

    /// Lifecycle reads local folders and S3 archives.
    func checkArchive(_ location: ArchiveLocation) throws {
        switch location {
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
    func planner(archive location: ArchiveLocation, transitionMinimumObjectSize: TransitionMinimumObjectSize = .allStorageClasses128K, deletes: Bool = false) throws -> LifecyclePlanner {
        let (policy, source) = try LifecyclePolicy.resolve(path: policy.policy, workingFolder: "")
        let day = try self.day
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

/// `--transition-default-minimum-object-size`: one of S3's settings.
extension TransitionMinimumObjectSize: CommandLineValue {
    init(commandLine text: String) throws {
        guard let setting = Self(rawValue: text) else {
            throw ValidationError("\"\(text)\" is not a setting; use " + Self.allCases.map(\.rawValue).joined(separator: " or "))
        }
        self = setting
    }
}
