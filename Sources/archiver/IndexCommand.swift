import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit
import Logging

extension Archiver {
    struct Index: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Look after the subject index that erasure finds records through.",
            discussion: """
                EXAMPLES:
                  archiver index rebuild --config archiver.yml
                """,
            subcommands: [Rebuild.self])

        struct Rebuild: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Build the subject index from the archive: for an archive made before subjects were named, or on another machine.",
                discussion: """
                    Reads the archive's subject index objects first (_subjects/, written by the tail with each batch: one \
                    read each, no record read), then every record no index object names (per-record objects many at once; \
                    a batched object whole, cut by its index), names its subject by the rules' subject templates and adds \
                    its row to the index (rows already there stay). A record of a subject erased since is indexed too, and \
                    a follow-up erasure is queued for it.

                    Index objects hold HMACs made with the subject key: another machine needs a copy of the tail's \
                    <state>/subject.key in its state folder. With another key, rebuild stops and says so; --scan-records \
                    reads every record instead and indexes it under this state folder's key.

                    EXAMPLES:
                      archiver index rebuild --config archiver.yml
                      archiver index rebuild --config a.yml --archive s3://archives/users --json
                      archiver index rebuild --config a.yml --scan-records
                    """)
            @Flag(help: "Read every record; do not read the archive's subject index objects.") var scanRecords = false
            @OptionGroup var config: ConfigOption
            @OptionGroup var state: StateOption
            @OptionGroup var archive: ConfiguredArchiveOption
            @OptionGroup var encryption: EncryptionOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let setup = try EraseSetup(config: config, state: state)
                guard setup.configuration.indexesSubjects else {
                    throw ValidationError("no rule of the configuration names a subject:, so no record can be indexed; add subject: to the rules (docs/configuration.md)")
                }
                let started = Date()
                let store = try IndexCommandSetup.store(setup, archive: archive, encryption: encryption)
                var fromObjects = SubjectIndexObjectReader.Result()
                if !scanRecords {
                    fromObjects = try await SubjectIndexObjectReader(store: store).run(keyID: setup.key.id) { marks in try setup.erasures.index(marks) }
                }
                let scanned = try await IndexCommandSetup.scan(setup, store: store, only: nil, skip: fromObjects.covered, json: output.json, write: true)
                let counts = try setup.erasures.indexCounts()
                let seconds = Date().timeIntervalSince(started)
                if output.json {
                    Terminal.print(JSONValue.object([
                        ("records", .integer(counts.records)), ("subjects", .integer(counts.subjects)),
                        ("index_objects", .integer(fromObjects.objects)), ("rows_from_index_objects", .integer(fromObjects.rows)),
                        ("records_scanned", .integer(scanned.progress.records)), ("rows_from_scan", .integer(scanned.progress.marked)),
                        ("seconds", .number(String(format: "%.2f", seconds))),
                    ]).serialized)
                } else {
                    Terminal.print("the subject index holds \(counts.records) records of \(counts.subjects) subjects (\(String(format: "%.1f", seconds)) s)")
                    Terminal.print("  \(fromObjects.rows) rows from \(fromObjects.objects) index objects, \(scanned.progress.marked) from \(scanned.progress.records) records read")
                }
            }
        }
    }
}

enum IndexCommandSetup {
    /// The archive the configuration or `--archive` names.
    static func store(_ setup: EraseSetup, archive: ConfiguredArchiveOption, encryption: EncryptionOption) throws -> any ArchiveStore {
        let (location, text) = try archive.required(setup.configuration)
        return try Wiring(logger: Terminal.logger).store(location, serverSideEncryption: try encryption.encryption(for: location, named: text))
    }

    /// Scans the archive (for one subject's HMAC, or all), with a progress line; indexes what it finds when `write`.
    static func scan(_ setup: EraseSetup, archive: ConfiguredArchiveOption, encryption: EncryptionOption, only: String?, json: Bool,
                     write: Bool) async throws -> [SubjectMark] {
        try await scan(setup, store: store(setup, archive: archive, encryption: encryption), only: only, skip: [], json: json, write: write).marks
    }

    /// Scans `store` but the records of `skip`.
    static func scan(_ setup: EraseSetup, store: any ArchiveStore, only: String?, skip: Set<String>, json: Bool,
                     write: Bool) async throws -> (marks: [SubjectMark], progress: SubjectScan.Progress) {
        let rules = RuleSet(rules: setup.configuration.rules, roots: setup.configuration.roots, subjectKey: setup.key)
        let progress = ProgressLine(enabled: !json)
        var all: [SubjectMark] = []
        let started = Date()
        let result = try await SubjectScan(store: store, rules: rules).run(only: only, skip: skip, found: { marks in
            if write { try setup.erasures.index(marks) }
            if only != nil { all += marks }
        }, progress: { state in
            let rate = Double(state.records) / max(0.001, Date().timeIntervalSince(started))
            progress.update("scanned \(state.objects) objects, \(state.records) records (\(Int(rate))/s)  found \(state.marked)  unreadable \(state.unreadable)")
        })
        progress.finish()
        if result.unreadable > 0 {
            Terminal.logger.warning("records that could not be read were not indexed", metadata: ["records": "\(result.unreadable)"])
        }
        return (all, result)
    }
}
