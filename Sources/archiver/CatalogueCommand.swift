import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit

extension Archiver {
    struct Catalogue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Look after the state folder's catalogue of a batched archive's objects (restore of one key in two reads).",
            discussion: """
                EXAMPLES:
                  archiver catalogue rebuild --archive s3://archives/users --state ./state
                """,
            subcommands: [Rebuild.self])

        struct Rebuild: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Fill the catalogue from the archive's indexes: for a state folder on another machine, or one that fell behind.",
                discussion: """
                    Reads every index of the batched archive (one read per object; no record is read) and writes its \
                    object's row: its day, first and last deletion time and sequence range. Rows of objects no longer \
                    in the archive are removed. `restore <key>` with that state folder then reads only the index and \
                    the record's range (two requests on S3) instead of listing the key's day. Run it while no tail \
                    uses the state folder.

                    EXAMPLES:
                      archiver catalogue rebuild --archive ./archive --state ./restore-state
                      archiver catalogue rebuild --config archiver.yml --json
                    """)
            @OptionGroup var archive: ConfiguredArchiveOption
            @OptionGroup var encryption: EncryptionOption
            @OptionGroup var state: StateOption
            @OptionGroup var config: ConfigOption
            @OptionGroup var output: OutputOption

            func run() async throws {
                let configuration = try config.load()
                let stateFolder = state.folder(configuration)
                let (location, text) = try archive.required(configuration)
                let store = try Wiring(logger: Terminal.logger).store(
                    location, serverSideEncryption: try encryption.encryption(for: location, named: text), access: .readOnly)
                guard try await LayoutManifest.layout(of: store) == .batched else {
                    throw ValidationError("the archive \(store.location) is not batched (it has no archiver-layout manifest saying so): each record is its own object, and restore <key> reads it directly; there is nothing to catalogue")
                }
                let lock = try StateFolderLock(stateFolder: stateFolder)
                defer { withExtendedLifetime(lock) {} }
                let started = Date()
                let progress = ProgressLine(enabled: !output.json)
                let summary = try await CatalogueRebuild(store: store, checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false))
                    .run { objects in progress.update("catalogued \(objects) objects") }
                progress.finish()
                let seconds = Date().timeIntervalSince(started)
                if output.json {
                    Terminal.print(JSONValue.object([
                        ("objects", .integer(summary.objects)), ("removed", .integer(summary.removed)),
                        ("seconds", .number(String(format: "%.2f", seconds))),
                    ]).serialized)
                } else {
                    Terminal.print(alignedRows([("objects catalogued", "\(summary.objects)"), ("rows removed", "\(summary.removed)"),
                                                ("seconds", String(format: "%.1f", seconds))]))
                }
            }
        }
    }
}
