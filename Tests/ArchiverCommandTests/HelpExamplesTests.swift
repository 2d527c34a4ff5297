import ArgumentParser
import Testing
@testable import archiver

/// The help text as written: paragraphs without hard line breaks, and examples that are valid command lines.
@Suite struct HelpExamplesTests {
    /// Every command type, the root first.
    static func commands(_ root: any ParsableCommand.Type = Archiver.self) -> [any ParsableCommand.Type] {
        [root] + root.configuration.subcommands.flatMap { commands($0) }
    }

    /// The example lines of a discussion, continuation lines (after a backslash) joined.
    static func examples(_ discussion: String) -> [String] {
        guard let start = discussion.range(of: "EXAMPLES:\n") else { return [] }
        var lines: [String] = []
        var continuing = false
        for line in discussion[start.upperBound...].split(separator: "\n") {
            let text = line.trimmingCharacters(in: .whitespaces)
            if continuing { lines[lines.count - 1] += " " + text } else { lines.append(text) }
            continuing = lines[lines.count - 1].hasSuffix("\\")
            if continuing { lines[lines.count - 1].removeLast() }
        }
        return lines
    }

    /// Shell words up to the first pipe or redirection, with single and double quotes removed.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current: String?
        var quote: Character?
        for character in line {
            if let open = quote {
                if character == open { quote = nil } else { current = (current ?? "") + String(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                current = current ?? ""
            } else if character == " " {
                if let word = current { words.append(word) }
                current = nil
            } else if "|<>".contains(character) {
                break
            } else {
                current = (current ?? "") + String(character)
            }
        }
        if let word = current { words.append(word) }
        return words
    }

    @Test("no paragraph of any command's discussion holds a hard line break (the help wraps paragraphs itself)")
    func paragraphsAreOneLine() {
        for command in Self.commands() {
            let discussion = command.configuration.discussion
            for paragraph in discussion.components(separatedBy: "\n\n") where !paragraph.hasPrefix(" ") && !paragraph.hasPrefix("EXAMPLES:") {
                #expect(!paragraph.contains("\n"), "\(command._commandName): \(paragraph)")
            }
            #expect(!command.configuration.abstract.contains("\n"), "\(command._commandName)")
        }
    }

    @Test("every command shows examples, and each example of archiver parses as the command it shows")
    func examplesParse() throws {
        for command in Self.commands() {
            let examples = Self.examples(command.configuration.discussion)
            #expect(!examples.isEmpty, "\(command._commandName) has no EXAMPLES")
            for example in examples where example.hasPrefix("archiver ") {
                let arguments = Array(Self.words(example).dropFirst())
                do {
                    _ = try Archiver.parseAsRoot(arguments)
                } catch {
                    // Checks of the file system, not of the command line, may refuse the example's made-up folders.
                    let message = Archiver.message(for: error)
                    #expect(message.contains("there is no archive folder"), "\(example): \(message)")
                }
            }
        }
    }

    @Test func shellWordsOfAnExample() {
        #expect(Self.words("archiver ls --archive ./a --item 'USER#1_*' --json | jq .") == ["archiver", "ls", "--archive", "./a", "--item", "USER#1_*", "--json"])
        #expect(Self.words(#"archiver x "a b" > out"#) == ["archiver", "x", "a b"])
        #expect(Self.examples("Text.\n\nEXAMPLES:\n  archiver a \\\n      --b c\n  archiver d\n") == ["archiver a  --b c", "archiver d"])
    }
}
