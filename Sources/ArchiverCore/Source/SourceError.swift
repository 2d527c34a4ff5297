/// A problem with a change source: how it is named, or reading it. Says what to do.
///
/// Code that must tell problems apart matches ``kind``:
/// ```swift
/// catch let error as SourceError where error.kind == .unreadable { … }
/// ```
public struct SourceError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is, for matching in code.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidSpec, unreadable, noStream
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The text naming the source (`--source`) does not name one.
        public static let invalidSpec = Kind(.invalidSpec)
        /// The feed cannot be opened or read (no such file, no permission, an I/O error).
        public static let unreadable = Kind(.unreadable)
        /// The table has no stream to read.
        public static let noStream = Kind(.noStream)

        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public let kind: Kind
    /// What is wrong, naming the source, and what to do.
    public let description: String

    private init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// The text naming a source does not name one: `description` says how to write one.
    public static func invalidSpec(_ description: String) -> SourceError { SourceError(.invalidSpec, description) }

    /// The feed cannot be opened or read: `description` names it and what the system said.
    public static func unreadable(_ description: String) -> SourceError { SourceError(.unreadable, description) }

    /// The table has no stream: `description` says how to enable one.
    public static func noStream(_ description: String) -> SourceError { SourceError(.noStream, description) }
}
