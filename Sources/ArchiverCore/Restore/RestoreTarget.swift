/// One archived item on its way back into a table.
public struct RestoreItem: Sendable {
    /// The archive key it came from.
    public var archiveKey: String
    /// The item's key attributes (from the record's `Keys`), in key order.
    public var keys: [KeyAttribute]
    /// The whole item (the record's `OldImage`), with any key attribute missing from it added from `Keys`.
    public var item: Item

    public init(archiveKey: String, keys: [KeyAttribute], item: Item) {
        self.archiveKey = archiveKey
        self.keys = keys
        self.item = item
    }

    /// `PK=USER#123, SK=PROFILE`: the item's key for messages.
    public var keyDescription: String { keys.map { "\($0.name)=\($0.value)" }.joined(separator: ", ") }
}

/// What happened to one item.
public enum RestoreOutcome: Sendable, Equatable {
    /// Put back (or, with a dry run, would have been).
    case restored
    /// Not put back: an item with that key is in the table and overwriting was not asked for.
    case exists(String)
    /// Not put back, for the reason given.
    case failed(String)
}

/// Where `archiver restore` puts items back: a SQLite table, a DynamoDB table, standard output.
///
/// The contract every target keeps (`RestoreTargetConformance` in the tests checks each point against each target):
/// - Each item is put back whole, with the values it was archived with, and gets exactly one outcome, in order.
/// - An item that exists in the table is never replaced unless `overwrite` is asked for; it is reported as
///   ``RestoreOutcome/exists(_:)``, naming its key and `--overwrite`.
/// - A dry run changes nothing, and reports what a real run would: the same outcomes.
/// - Items are independent: one that cannot be put back (a key attribute missing, a value the table refuses)
///   fails alone, naming its key and why, and the others are restored.
/// - Only a target that cannot be used at all (no such table, no connection) throws: a ``RestoreError`` of kind
///   ``RestoreError/Kind/unusableTarget`` naming it and what to do.
public protocol RestoreTarget: Sendable {
    /// Where the target points, for people (`sqlite:app.db#users`, `dynamodb:users`, `standard output`).
    var location: String { get }

    /// Puts items back. Never replaces an item that exists unless `overwrite` is true.
    /// With `dryRun`, checks each item (does it exist? would it fit?) and changes nothing.
    /// - Parameters:
    ///   - items: the items, each with its archive key and key attributes (for messages).
    ///   - overwrite: replace an item whose key is in the table (otherwise it is reported as `.exists`).
    ///   - dryRun: check and report, change nothing.
    /// - Returns: one outcome per item, in order.
    /// - Throws: only when the target cannot be used at all (no such table, cannot connect): a ``RestoreError``
    ///   of kind ``RestoreError/Kind/unusableTarget``, or the error of the connection; nothing was restored.
    func restore(_ items: [RestoreItem], overwrite: Bool, dryRun: Bool) async throws -> [RestoreOutcome]
}

/// A problem with a restore target or an archived object being restored. Says what to do.
///
/// Code that must tell problems apart matches ``kind``:
/// ```swift
/// catch let error as RestoreError where error.kind == .noObject { … }
/// ```
public struct RestoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of problem this is, for matching in code.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidRequest, unusableTarget, noObject, unreadableObject, itemExists, itemFailed
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// What was asked is not written as it must be (a `--to` that names no target, a prefix that is not a date).
        public static let invalidRequest = Kind(.invalidRequest)
        /// The target cannot be used at all (no such table, no connection); nothing was restored.
        public static let unusableTarget = Kind(.unusableTarget)
        /// There is no archived object at that key.
        public static let noObject = Kind(.noObject)
        /// The archived object does not hold a record that can be restored (not gzip, not a stream record, no OldImage).
        public static let unreadableObject = Kind(.unreadableObject)
        /// The item exists in the target and overwriting was not asked for.
        public static let itemExists = Kind(.itemExists)
        /// The target refused the item.
        public static let itemFailed = Kind(.itemFailed)

        public var description: String { base.rawValue }
    }

    /// What kind of problem this is.
    public let kind: Kind
    /// What is wrong, naming the target or object, and what to do.
    public let description: String

    private init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    /// What was asked is not written as it must be: `description` says how to write it.
    public static func invalidRequest(_ description: String) -> RestoreError { RestoreError(.invalidRequest, description) }
    /// The target cannot be used at all: `description` names it and what to do.
    public static func unusableTarget(_ description: String) -> RestoreError { RestoreError(.unusableTarget, description) }
    /// No archived object at a key: `description` names the key and how to list the keys.
    public static func noObject(_ description: String) -> RestoreError { RestoreError(.noObject, description) }
    /// An archived object that cannot be restored: `description` names it and what is wrong.
    public static func unreadableObject(_ description: String) -> RestoreError { RestoreError(.unreadableObject, description) }
    /// The item exists in the target: `description` (a ``RestoreOutcome/exists(_:)`` message) names it and `--overwrite`.
    public static func itemExists(_ description: String) -> RestoreError { RestoreError(.itemExists, description) }
    /// The target refused the item: `description` names it and why.
    public static func itemFailed(_ description: String) -> RestoreError { RestoreError(.itemFailed, description) }
}
