import ArchiverCore
import ArgumentParser

/// A value the command line names (an archive, a source, a restore target, a day, …), read from its text once.
protocol CommandLineValue: Sendable {
    /// Reads the value from its text.
    /// - Throws: an error whose description says what is wrong and what to write instead.
    init(commandLine text: String) throws
}

/// The value of an option or argument, read once, when the command line is parsed, together with the reason
/// when it cannot be read. `validate()` reports that reason (`value(_:)` throws it as a `ValidationError`):
/// ArgumentParser's `init?(argument:)` has no room for one and would say only that the value is invalid.
struct Parsed<Value: CommandLineValue>: ExpressibleByArgument, Sendable {
    /// The text as given.
    let text: String
    private let result: Result<Value, Problem>

    init(argument: String) {
        text = argument
        do {
            result = .success(try Value(commandLine: argument))
        } catch {
            result = .failure(Problem(description: "\(error)"))
        }
    }

    /// The value; when it could not be read, a `ValidationError` naming the option (`--archive`), what is wrong
    /// and what to write. Once `validate()` has asked for it, it never throws.
    func value(_ name: String) throws -> Value {
        switch result {
        case .success(let value): return value
        case .failure(let problem):
            // A reason that names the option already ("--archive is empty") is not prefixed again.
            throw ValidationError(problem.description.hasPrefix(name) ? problem.description : "\(name): \(problem.description)")
        }
    }

    var defaultValueDescription: String { text }

    private struct Problem: Error, Sendable {
        let description: String
    }
}

extension ArchiveLocation: CommandLineValue {
    init(commandLine text: String) throws { try self.init(text) }
}

extension SourceSpec: CommandLineValue {
    init(commandLine text: String) throws { try self.init(text) }
}

/// `--now` of `lifecycle`, `--date` of `ls`: a UTC day, `YYYY-MM-DD`.
extension LifecycleDay: CommandLineValue {
    init(commandLine text: String) throws { try self.init(parsing: text) }
}

/// A month, `YYYY-MM`: what `sync` copies, what `ls --month` lists.
struct Month: CommandLineValue, CustomStringConvertible {
    /// `YYYY-MM`, as given.
    let description: String

    init(commandLine text: String) throws {
        _ = try ArchiveSync.prefix(month: text)
        description = text
    }
}

/// `restore --prefix`: a month or a day of the archive, `YYYY/MM` or `YYYY/MM/DD`.
struct DatePrefix: CommandLineValue, CustomStringConvertible {
    let description: String

    init(commandLine text: String) throws {
        if let problem = ArchiveRestorer.validatePrefix(text) { throw ValidationError(problem) }
        description = text
    }
}
