import ArchiverCore
import ArgumentParser

/// `--archive`: where the archive lives.
struct ArchiveOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The archive: a folder, s3://bucket[/prefix], or null: (keeps nothing).", valueName: "dir|s3-url"))
    var archive: String

    func validate() throws {
        do { _ = try ArchiveLocation(archive) } catch { throw ValidationError("\(error)") }
    }
}

/// `--state`: checkpoints and dead letters.
struct StateOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The state folder: checkpoints and dead letters. Default: .archiver in the working folder.", valueName: "dir"))
    var state: String = ".archiver"
}

/// `--json`: output for machines.
struct OutputOption: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of text for people.")
    var json = false
}
