import Foundation
import Testing
import TestSupport

/// `archiver … --help` as a person reads it, at a narrow and a wide terminal.
@Suite struct HelpTextTests {
    /// Every command path, found from the SUBCOMMANDS sections of the help itself, the root first.
    static func commandPaths() throws -> [[String]] {
        var paths: [[String]] = [[]]
        var index = 0
        while index < paths.count {
            let help = try BuiltBinary.run(paths[index] + ["--help"], environment: ["COLUMNS": "200"])
            var inSubcommands = false
            for line in help.stdout.split(separator: "\n", omittingEmptySubsequences: false) {
                if line == "SUBCOMMANDS:" {
                    inSubcommands = true
                } else if inSubcommands, line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first {
                    if name != "help" { paths.append(paths[index] + [String(name)]) }
                } else if inSubcommands, !line.hasPrefix(" ") {
                    inSubcommands = false
                }
            }
            index += 1
        }
        return paths
    }

    /// The help up to its usage line: the overview, the discussion, the examples.
    static func overview(_ path: [String], columns: Int) throws -> [Substring] {
        let help = try BuiltBinary.run(path + ["--help"], environment: ["COLUMNS": "\(columns)"])
        #expect(help.status == 0, "\(path): \(help.stderr)")
        let lines = help.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return Array(lines.prefix { !$0.hasPrefix("USAGE:") })
    }

    @Test("every command's help has paragraphs wrapped only at the screen's edge, and examples no line of which is broken",
          arguments: [80, 200])
    func paragraphsAndExamples(columns: Int) throws {
        let paths = try Self.commandPaths()
        #expect(paths.count >= 19, "\(paths)")
        for path in paths {
            let lines = try Self.overview(path, columns: columns)
            let name = (["archiver"] + path).joined(separator: " ")
            // Paragraphs: runs of lines between blank lines. Prose starts at the margin; examples and name patterns are indented.
            var paragraphs: [[Substring]] = [[]]
            for line in lines {
                if line.isEmpty { paragraphs.append([]) } else { paragraphs[paragraphs.count - 1].append(line) }
            }
            paragraphs.removeAll { $0.isEmpty }
            for paragraph in paragraphs where !paragraph[0].hasPrefix(" ") && paragraph[0] != "EXAMPLES:" {
                for (line, next) in zip(paragraph, paragraph.dropFirst()) {
                    // A line ends early only where the next word would not have fitted (ArgumentParser leaves the
                    // last column empty).
                    let nextWord = next.split(separator: " ").first ?? ""
                    #expect(line.count + 1 + nextWord.count >= columns, "\(name) at \(columns) columns breaks a paragraph early:\n\(line)\n\(next)")
                }
            }
            #expect(lines.allSatisfy { $0.count <= columns }, "\(name): a line is wider than \(columns) columns")
            let examples = paragraphs.first { $0.first == "EXAMPLES:" }
            #expect(examples != nil, "\(name) has no EXAMPLES")
            guard let examples else { continue }
            #expect(examples.count >= 2, "\(name): no example under EXAMPLES")
            // Each example line is indented; a line that continues the one before follows a backslash.
            for (line, previous) in zip(examples.dropFirst(), [""] + examples.dropFirst()) {
                #expect(line.hasPrefix("  "), "\(name) at \(columns) columns: an example line was broken:\n\(line)")
                if line.hasPrefix("   ") { #expect(previous.hasSuffix("\\"), "\(name): \(line)") }
            }
            // Each subcommand's examples show that subcommand.
            if !path.isEmpty {
                #expect(examples.contains { $0.contains(name) }, "\(name): no example uses it")
            }
        }
    }
}
