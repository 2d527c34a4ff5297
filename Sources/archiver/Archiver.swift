import ArgumentParser
import ArchiverCore

@main
struct Archiver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Keep every record an application deletes.")
}
