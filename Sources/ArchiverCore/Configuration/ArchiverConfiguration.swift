import Foundation
import JSONToolkit

/// archiver's settings from one configuration file (`--config`, `ARCHIVER_CONFIG`): YAML, or JSON.
///
/// Every key is documented in docs/configuration.md. A command line flag or an environment variable overrides
/// the file, and the file overrides the built-in default (`Setting.resolve`). Each feature reads its own
/// section (a type with `init(reading:)` and `described`) and lists it here once.
public struct ArchiverConfiguration: Sendable {
    /// The file it was read from ("" for the built-in default).
    public var file: String
    /// `state:` the state folder.
    public var state: String?
    /// `archive:` the archive (a folder or s3://bucket/prefix), as written.
    public var archive: String?
    /// `sources:` the sources `serve` tails, as written (`jsonl:…`, `sqlite:…`, `dynamodb:…`).
    public var sources: [String]
    /// `cleanup:` what `archiver cleanup` cleans, its thresholds and retentions.
    public var cleanup: CleanupConfiguration
    /// `roots:` the places deletion actions may touch.
    public var roots = RootsConfiguration()
    /// `rules:` what follows a deletion.
    public var rules = RulesConfiguration()
    /// `queue:` how the deletion queue runs.
    public var queue = QueueSettings()
    /// `events:` where coordination events go and where acks come from.
    public var events = EventsConfiguration()

    /// `layout:` and `batching:` how `tail` writes the archive.
    public var layout = LayoutSettings()

    /// `serve:` how `archiver serve` listens, who may use it, and how it stops.
    public var serve = ServeConfiguration()

    /// `erasure:` the subject key and the subject's application data.
    public var erasure = ErasureConfiguration()

    /// The top-level keys, in the order `config check` prints them.
    static let topLevelKeys = ["state", "archive", "sources"] + LayoutSettings.keys + ["roots", "rules", "queue", "events", "cleanup", "serve", "erasure"]

    /// No file: every setting at its default.
    public init() {
        file = ""
        state = nil
        archive = nil
        sources = []
        cleanup = CleanupConfiguration()
    }

    /// Reads and validates a configuration file.
    /// - Throws: `ConfigurationError` naming the file, the line, the key and what to write.
    public static func load(path: String) throws -> ArchiverConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ConfigurationError.unreadable(
                file: path, detail: "cannot read the configuration file (\(FileSystem.absolute(path))): \((error as NSError).localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError.unreadable(file: path, detail: "the configuration file is not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// Reads a configuration from its text.
    public static func parse(_ text: String, file: String) throws -> ArchiverConfiguration {
        let root = ConfigurationValue(node: try ConfigurationNode.parse(text, file: file), file: file, path: "")
        if case .null = root.node { return ArchiverConfiguration(file: file) }
        let top = try root.mapping()
        var configuration = ArchiverConfiguration(file: file)
        configuration.state = try top.value("state")?.nonEmptyString()
        configuration.archive = try top.value("archive")?.nonEmptyString()
        configuration.sources = try top.value("sources")?.list().map { try $0.nonEmptyString() } ?? []
        configuration.layout = try LayoutSettings(reading: top)
        configuration.roots = try RootsConfiguration(reading: top.value("roots"))
        configuration.rules = try RulesConfiguration(reading: top.value("rules"), roots: configuration.roots)
        configuration.queue = try QueueSettings(reading: top.value("queue"))
        configuration.events = try EventsConfiguration(reading: top.value("events"))
        configuration.cleanup = try CleanupConfiguration(reading: top.value("cleanup"))
        configuration.serve = try ServeConfiguration(reading: top.value("serve"))
        configuration.erasure = try ErasureConfiguration(reading: top.value("erasure"), roots: configuration.roots)
        try top.finish()
        try configuration.checkRootsAgainstArchive(top)
        return configuration
    }

    private init(file: String) {
        self.init()
        self.file = file
    }

    /// What `config check` prints: every setting, defaults included.
    public var described: JSONValue {
        .object([
            ("state", .string(state ?? ArchiverConfiguration.defaultState)),
            ("archive", archive.map(JSONValue.string) ?? .null),
            ("sources", .array(sources.map(JSONValue.string))),
        ] + layout.described + [
            ("roots", roots.described),
            ("rules", rules.described(roots: roots)),
            ("queue", queue.described),
            ("events", events.described(stateFolder: state ?? ArchiverConfiguration.defaultState)),
            ("cleanup", cleanup.described),
            ("serve", serve.described),
            ("erasure", erasure.described(roots: roots)),
        ])
    }

    /// A root may not reach into the archive or the state folder (its actions would delete archived records).
    private func checkRootsAgainstArchive(_ top: ConfigurationMapping) throws {
        let archiveLocation = archive.flatMap { try? ArchiveLocation($0) }
        for root in roots.roots {
            if let archiveLocation, root.location.overlaps(archiveLocation) {
                throw top.invalid("the root '\(root.name)' (\(root.location)) overlaps the archive (\(archiveLocation)); actions must never reach archived records")
            }
            if root.location.overlaps(folder: state ?? Self.defaultState) {
                throw top.invalid("the root '\(root.name)' (\(root.location)) overlaps the state folder (\(state ?? Self.defaultState))")
            }
        }
    }

    /// Whether any rule names a subject (records are then indexed by subject as they are archived).
    public var indexesSubjects: Bool { rules.rules.contains { $0.subject != nil } }

    /// The subject key when a rule names a subject (created at first use), else nil.
    public func subjectKey(stateFolder: String) throws -> SubjectKey? {
        indexesSubjects ? try SubjectKey(stateFolder: stateFolder, file: erasure.keyFile) : nil
    }

    /// The rules as the pipeline and the queue use them: with the events' source and, when a rule names a subject,
    /// the subject key (created at first use).
    public func ruleSet(stateFolder: String) throws -> RuleSet {
        RuleSet(rules: rules, roots: roots, eventSource: events.source, subjectKey: try subjectKey(stateFolder: stateFolder))
    }

    /// The state folder when nothing names one.
    public static let defaultState = ".archiver"
}

/// Where a setting's value came from.
public enum SettingOrigin: String, Sendable {
    case flag, environment, file, `default`
}

/// One setting resolved by precedence: flag, then environment variable, then configuration file, then default.
public struct Setting<Value: Sendable>: Sendable {
    public let value: Value
    public let origin: SettingOrigin

    /// The first of `flag`, `environment[variable]` (read by `parse`), `file`, `fallback` that is there.
    public static func resolve(
        flag: Value?, variable: String, environment: [String: String], parse: (String) throws -> Value,
        file: Value?, fallback: Value
    ) rethrows -> Setting<Value> {
        if let flag { return Setting(value: flag, origin: .flag) }
        if let text = environment[variable], !text.isEmpty { return Setting(value: try parse(text), origin: .environment) }
        if let file { return Setting(value: file, origin: .file) }
        return Setting(value: fallback, origin: .default)
    }
}

extension Setting where Value == String {
    /// A text setting.
    public static func resolve(flag: String?, variable: String, environment: [String: String], file: String?, fallback: String) -> Setting<String> {
        resolve(flag: flag, variable: variable, environment: environment, parse: { $0 }, file: file, fallback: fallback)
    }
}
