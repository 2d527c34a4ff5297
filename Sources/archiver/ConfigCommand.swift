import ArchiverCore
import ArgumentParser
import Foundation
import JSONToolkit

extension Archiver {
    struct Config: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file and print what archiver understood.",
            discussion: """
                One file (YAML, or JSON) holds every setting: the state folder, the archive, the sources, and \
                what follows a deletion. Every key is described in docs/configuration.md. A flag or an environment \
                variable overrides the file.

                EXAMPLES:
                  archiver config check archiver.yml
                  archiver config check archiver.yml --json
                  ARCHIVER_CONFIG=/etc/archiver.yml archiver config check
                """,
            subcommands: [Check.self])

        struct Check: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Validate a configuration file; print every setting, defaults included.",
                discussion: """
                    Exits 1 with the file, the line, the key and what to write when something is wrong: an unknown \
                    key (a typo must not quietly turn a rule off), a wrong type, a missing value.

                    EXAMPLES:
                      archiver config check archiver.yml
                      archiver config check fixtures/config/uploads.yml --json
                    """)

            @Argument(help: ArgumentHelp("The configuration file. Default: --config, then ARCHIVER_CONFIG.", valueName: "file"))
            var file: String?

            @OptionGroup var config: ConfigOption
            @OptionGroup var output: OutputOption

            func validate() throws {
                if file == nil, config.path == nil {
                    throw ValidationError("name a configuration file: archiver config check <file> (or --config, or ARCHIVER_CONFIG)")
                }
            }

            func run() async throws {
                let path = file ?? config.path!
                let settings = try ArchiverConfiguration.load(path: path)
                if output.json {
                    Terminal.print(JSONValue.object([("file", .string(path)), ("valid", .bool(true)), ("settings", settings.described)]).formatted(indent: 2))
                } else {
                    Terminal.print("\(path): valid")
                    ConfigText.lines(settings.described).forEach(Terminal.print)
                }
            }
        }
    }
}

/// A configuration as people read it: indented `key: value` lines, lists with `-`.
enum ConfigText {
    static func lines(_ value: JSONValue, indent: Int = 0) -> [String] {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let members):
            return members.flatMap { key, member -> [String] in
                if let scalar = scalarText(member) { return ["\(pad)\(key): \(scalar)"] }
                return ["\(pad)\(key):"] + lines(member, indent: indent + 2)
            }
        case .array(let items):
            if items.isEmpty { return ["\(pad)[]"] }
            return items.flatMap { item -> [String] in
                if let scalar = scalarText(item) { return ["\(pad)- \(scalar)"] }
                var nested = lines(item, indent: indent + 2)
                if !nested.isEmpty { nested[0] = pad + "- " + nested[0].dropFirst(indent + 2) }
                return nested
            }
        default:
            return [pad + (scalarText(value) ?? "")]
        }
    }

    private static func scalarText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .number(let text): text
        case .bool(let flag): flag ? "true" : "false"
        case .null: "(none)"
        case .array(let items) where items.isEmpty: "[]"
        case .object(let members) where members.isEmpty: "{}"
        default: nil
        }
    }
}
