import ArchiverCore
import ArgumentParser
import Foundation

extension Archiver {
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put archived records back into a table.",
            discussion: """
                Restores one object (its key as `archiver ls` prints it) or every object under a date prefix. \
                Never replaces an item that exists unless --overwrite; --dry-run checks each item and changes nothing.

                --to - prints each item as DynamoDB JSON, one a line: what aws CLI v2 takes \
                (`aws dynamodb put-item --table-name users --item file://item.json`). aws CLI v1 base64-encodes \
                binary values (B, BS) a second time, so through v1 every binary value would come back as the text \
                of its base64; v1 has no setting against it (cli_binary_format is v2's). Put items with binary \
                values back with --to dynamodb:<table>, or with aws CLI v2.

                --with-files also puts back the files a deletion rule kept (keep: true) when it deleted them, from \
                beside the record in the archive into the roots of the configuration file (--config); a file that \
                exists is left alone unless --overwrite.

                EXAMPLES:
                  archiver ls --archive ./archive --item 'USER#123_PROFILE'
                  archiver restore 2024/01/15/USER#123_PROFILE.103000.1100.manual.json.gz \\
                      --archive ./archive --to dynamodb:users
                  archiver restore --prefix 2024/01/15 --archive s3://archives/users \\
                      --to sqlite:app.db#users --dry-run
                  archiver restore 2024/01/15/USER#123_PROFILE.103000.1100.manual.json.gz \\
                      --archive ./archive --to - > item.json
                  archiver restore 2024/01/15/UPLOAD#7.103000.1100.manual.json.gz \\
                      --archive s3://archives/uploads --to dynamodb:uploads \\
                      --with-files --config archiver.yml
                """)

        @Argument(help: ArgumentHelp("The archive key, relative to the archive root, as `archiver ls` prints it.", valueName: "key"))
        var key: String?

        @Option(help: ArgumentHelp("Restore every object under this date prefix.", valueName: "YYYY/MM[/DD]"))
        var prefix: Parsed<DatePrefix>?

        @OptionGroup var archive: ArchiveOption

        @Option(help: ArgumentHelp("Where to: sqlite:<db>#<table>, dynamodb:<table>, or - for standard output.", valueName: "target"))
        var to: Parsed<RestoreTargetSpec>

        @Flag(help: "Replace items that exist.")
        var overwrite = false

        @Flag(help: "Check each item and change nothing.")
        var dryRun = false

        @Flag(help: "Also put back the files kept when the record's deletion actions ran (keep: true), into the configuration's roots.")
        var withFiles = false

        @OptionGroup var config: ConfigOption
        @OptionGroup var state: StateOption

        @OptionGroup var limit: RecordLimitOption
        @OptionGroup var output: OutputOption

        func validate() throws {
            guard (key == nil) != (prefix == nil) else { throw ValidationError("give either an archive key or --prefix YYYY/MM[/DD]") }
            _ = try prefix?.value("--prefix")
            _ = try to.value("--to")
            if withFiles && key == nil { throw ValidationError("--with-files restores the files of one record: give its archive key") }
        }

        func run() async throws {
            let logger = Terminal.logger
            let wiring = Wiring(logger: logger)
            let target = try to.value("--to")
            var restorer = ArchiveRestorer(store: try wiring.store(try archive.location), target: try wiring.restoreTarget(target))
            restorer.overwrite = overwrite
            restorer.maxRecordBytes = limit.maxRecordBytes
            restorer.dryRun = dryRun
            // Records of erased subjects are refused, with the reason (when the configuration names subjects).
            if config.path != nil {
                let configuration = try config.load()
                let stateFolder = state.folder(configuration)
                if configuration.indexesSubjects, FileSystem.isFolder(stateFolder), let check = SuppressionCheck(
                    rules: RuleSet(rules: configuration.rules, roots: configuration.roots, subjectKey: try configuration.subjectKey(stateFolder: stateFolder)),
                    erasures: ErasureStore(checkpoints: try CheckpointStore(stateFolder: stateFolder, verify: false))) {
                    restorer.refuse = { check.reason($0) }
                }
            }
            if let key {
                // A batched tail's state folder names the object holding the key (its catalogue): no manifest, no listing.
                let stateFolder = config.path != nil ? state.folder(try config.load()) : state.state
                if FileSystem.exists(stateFolder + "/archiver.sqlite"), let checkpoints = try? CheckpointStore(stateFolder: stateFolder, verify: false) {
                    let location = restorer.store.location
                    restorer.catalogue = { key in (try? checkpoints.catalogueCandidates(archive: location, key: key)) ?? nil }
                }
                let outcome: RestoreOutcome
                do {
                    outcome = try await restorer.restore(key: key)
                } catch {
                    throw await ItemKeyHint(argument: key, archive: archive.archive.text, to: to.text).explain(error, store: restorer.store)
                }
                switch outcome {
                case .restored:
                    if !target.isStandardOutput { Terminal.print("\(dryRun ? "would restore" : "restored") \(key) into \(restorer.target.location)") }
                case .exists(let message):
                    throw RestoreError.itemExists(message)
                case .failed(let message):
                    throw RestoreError.itemFailed("cannot restore \(key): \(message)")
                }
                if withFiles { try await restoreFiles(of: key, store: restorer.store, wiring: wiring) }
                return
            }
            let progress = ProgressLine(enabled: !target.isStandardOutput)
            let summary = try await restorer.restore(prefix: try prefix!.value("--prefix").description) { summary in
                progress.update("restored \(summary.restored) of \(summary.total)  already there \(summary.exists)  failed \(summary.failed)")
            }
            progress.finish()
            if output.json { try Terminal.printJSON(summary) } else if !target.isStandardOutput { Terminal.print(summary.text) }
            if summary.failed > 0 || summary.exists > 0 { throw ExitCode(1) }
        }

        /// Puts back the files kept beside the record `key`.
        func restoreFiles(of key: String, store: any ArchiveStore, wiring: Wiring) async throws {
            let configuration = try config.load()
            let kept = try await KeptFiles.list(record: key, in: store)
            guard !kept.isEmpty else {
                Terminal.printError("no files were kept for \(key) (nothing under \(KeptFiles.folder(record: key)))")
                return
            }
            var files: [KeptFile] = []
            for file in kept {
                guard let root = configuration.roots[file.root] else {
                    throw ValidationError("\(file.archiveKey) was kept from the root '\(file.root)', which the configuration does not name; add it to roots: (--config)")
                }
                files.append(KeptFile(archiveKey: file.archiveKey, root: root, path: file.path))
            }
            if dryRun {
                for file in files { Terminal.print("would put back \(file.root.locate(file.path))") }
                return
            }
            let executors = try wiring.executors(roots: configuration.roots, archive: store, concurrency: configuration.queue.concurrency)
            var failed = 0
            for executor in executors {
                let mine = files.filter { executor.handles($0.root) }
                guard !mine.isEmpty else { continue }
                for (file, result) in zip(mine, await executor.restore(mine, overwrite: overwrite)) {
                    switch result {
                    case .completed: Terminal.print("put back \(file.root.locate(file.path))")
                    case .failed(let failure):
                        failed += 1
                        Terminal.printError("cannot put back \(file.root.locate(file.path)): \(failure.message)")
                    }
                }
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
