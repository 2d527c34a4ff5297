/// Why a lifecycle policy cannot be used: where the problem is, what is wrong, and what to do.
public struct LifecyclePolicyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of problem.
    public enum Kind: Sendable, Equatable {
        /// There is no file at the path given.
        case missingFile
        /// The file exists but cannot be read.
        case unreadable
        /// The file is not JSON, or not JSON of the lifecycle configuration's shape.
        case badJSON
        /// The JSON has the right shape but breaks a rule S3 enforces (or one archiver needs).
        case invalid
        /// A `--now` value that is not a day.
        case badDay
    }

    /// What kind of problem.
    public let kind: Kind
    /// The policy file, when the policy came from one.
    public internal(set) var file: String?
    /// Where in the policy: `Rules[0].Transitions[1].Days`; nil for the whole file.
    public let location: String?
    /// What is wrong.
    public let problem: String
    /// What to do about it.
    public let fix: String

    init(_ kind: Kind, file: String? = nil, location: String? = nil, problem: String, fix: String) {
        self.kind = kind
        self.file = file
        self.location = location
        self.problem = problem
        self.fix = fix
    }

    static func invalid(at location: String, _ problem: String, fix: String) -> Self {
        Self(.invalid, location: location, problem: problem, fix: fix)
    }

    static func badDay(_ text: String) -> Self {
        Self(.badDay, problem: "\"\(text)\" is not a day", fix: "write the day as YYYY-MM-DD, e.g. 2024-06-01 (UTC)")
    }

    /// The same problem, said of a file.
    func inFile(_ path: String) -> Self {
        var copy = self
        copy.file = path
        return copy
    }

    public var description: String {
        var text = ""
        if let file { text += file + ": " }
        if let location { text += location + ": " }
        return text + problem + "; " + fix
    }
}
