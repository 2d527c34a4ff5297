import AWSClients
import ArchiverCore
import ArgumentParser
import Foundation

/// `--archive`: where the archive lives.
struct ArchiveOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The archive: a folder, s3://bucket[/prefix], or null: (keeps nothing).", valueName: "dir|s3-url"))
    var archive: Parsed<ArchiveLocation>

    func validate() throws {
        _ = try location
    }

    /// The archive named, as read when the command line was parsed.
    var location: ArchiveLocation {
        get throws { try archive.value("--archive") }
    }
}

/// `--sse`, `--sse-kms-key-id`: server-side encryption of the objects written to an S3 archive.
struct EncryptionOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Server-side encryption of the S3 objects written: AES256 (SSE-S3) or aws:kms (SSE-KMS). Default: the bucket's.", valueName: "AES256|aws:kms"))
    var sse: Parsed<EncryptionAlgorithm>?

    @Option(name: .long, help: ArgumentHelp("The KMS key (id, ARN or alias) for --sse aws:kms. Default: the account's aws/s3 key.", valueName: "key"))
    var sseKmsKeyId: String?

    /// The encryption asked for, checked against the archive it is for.
    func encryption(for archive: ArchiveOption) throws -> S3ServerSideEncryption? {
        try encryption(for: try? archive.location, named: archive.archive.text)
    }

    /// The encryption asked for, checked against the archive it is for (`named` as written, for messages).
    func encryption(for location: ArchiveLocation?, named: String) throws -> S3ServerSideEncryption? {
        guard let sse else {
            if sseKmsKeyId != nil { throw ValidationError("--sse-kms-key-id needs --sse aws:kms") }
            return nil
        }
        let encryption: S3ServerSideEncryption
        switch try sse.value("--sse") {
        case .aes256:
            if sseKmsKeyId != nil { throw ValidationError("--sse-kms-key-id needs --sse aws:kms, not --sse \(sse.text) (AES256 uses keys S3 manages)") }
            encryption = .aes256
        case .kms:
            if let key = sseKmsKeyId, key.isEmpty || key.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
                throw ValidationError("--sse-kms-key-id '\(key)' is not a KMS key id, ARN or alias (no spaces or control characters)")
            }
            encryption = .kms(keyID: sseKmsKeyId)
        }
        if let location, !location.isS3 {
            throw ValidationError(
                "--sse applies to s3:// archives; '\(named)' is not one (protect a folder archive with its file permissions or an encrypted file system)")
        }
        return encryption
    }
}

/// `--sse`: AES256 or aws:kms, in any case.
enum EncryptionAlgorithm: CommandLineValue {
    case aes256, kms

    init(commandLine text: String) throws {
        if text.caseInsensitiveCompare("AES256") == .orderedSame {
            self = .aes256
        } else if text.caseInsensitiveCompare("aws:kms") == .orderedSame {
            self = .kms
        } else {
            throw ValidationError("'\(text)' is not a server-side encryption; use AES256 or aws:kms (with --sse-kms-key-id for a key of your own)")
        }
    }
}

/// `--state`: checkpoints, dead letters and the deletion queue.
struct StateOption: ParsableArguments {
    @Option(
        name: .customLong("state"),
        help: ArgumentHelp(
            "The state folder: checkpoints, dead letters and the deletion queue. Default: ARCHIVER_STATE, then state: in the configuration file, then .archiver.",
            valueName: "dir"))
    var flag: String?

    /// The folder named by --state or ARCHIVER_STATE, or `.archiver` (for commands that read no configuration file).
    var state: String { folder(ArchiverConfiguration()) }

    /// The folder named by --state, ARCHIVER_STATE or the configuration file, or `.archiver`.
    func folder(_ configuration: ArchiverConfiguration) -> String {
        Setting.resolve(
            flag: flag, variable: "ARCHIVER_STATE", environment: ProcessInfo.processInfo.environment, file: configuration.state,
            fallback: ArchiverConfiguration.defaultState
        ).value
    }
}

/// `--archive` for the commands that also read it from the configuration file (tail, dlq retry, queue).
struct ConfiguredArchiveOption: ParsableArguments {
    @Option(
        name: .customLong("archive"),
        help: ArgumentHelp(
            "The archive: a folder, s3://bucket[/prefix], or null: (keeps nothing). Default: ARCHIVER_ARCHIVE, then archive: in the configuration file.",
            valueName: "dir|s3-url"))
    var flag: Parsed<ArchiveLocation>?

    func validate() throws {
        _ = try flag?.value("--archive")
    }

    /// The archive named by --archive, ARCHIVER_ARCHIVE or the configuration file, with its text; nil when none is.
    func named(_ configuration: ArchiverConfiguration) throws -> (location: ArchiveLocation, text: String)? {
        if let flag { return (try flag.value("--archive"), flag.text) }
        for (text, origin) in [(ProcessInfo.processInfo.environment["ARCHIVER_ARCHIVE"], "ARCHIVER_ARCHIVE"), (configuration.archive, "archive: in \(configuration.file)")] {
            guard let text, !text.isEmpty else { continue }
            do {
                return (try ArchiveLocation(text), text)
            } catch {
                throw ValidationError("\(origin): \(error)")
            }
        }
        return nil
    }

    /// The archive, which must be named.
    func required(_ configuration: ArchiverConfiguration) throws -> (location: ArchiveLocation, text: String) {
        guard let named = try named(configuration) else {
            throw ValidationError("name the archive: --archive <dir|s3://bucket/prefix>, ARCHIVER_ARCHIVE, or archive: in the configuration file (--config)")
        }
        return named
    }
}

/// `--max-record-bytes`: the longest record archived, restored or synced.
struct RecordLimitOption: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The longest record, in bytes. A longer one is dead-lettered as too-large (its first KiB, length and SHA-256 kept); an archived object that decompresses to more is refused by key. Default: 4 MiB (4194304).",
            valueName: "bytes"))
    var maxRecordBytes: Int = TailOptions.defaultMaxRecordBytes

    func validate() throws {
        guard maxRecordBytes >= 1024 else { throw ValidationError("--max-record-bytes must be at least 1024 (default \(TailOptions.defaultMaxRecordBytes))") }
    }
}

/// `--json`: output for machines.
struct OutputOption: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text for people.")
    var json = false
}

/// `--config`: the configuration file (also `ARCHIVER_CONFIG`); flags override what it says.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file (YAML or JSON; see docs/configuration.md). Default: ARCHIVER_CONFIG.", valueName: "file"))
    var config: String?

    /// The file named by --config or ARCHIVER_CONFIG, if any.
    var path: String? {
        if let config { return config }
        if let variable = ProcessInfo.processInfo.environment["ARCHIVER_CONFIG"], !variable.isEmpty { return variable }
        return nil
    }

    /// The settings of the file named, or every default when none is.
    func load() throws -> ArchiverConfiguration {
        guard let path else { return ArchiverConfiguration() }
        return try ArchiverConfiguration.load(path: path)
    }
}
