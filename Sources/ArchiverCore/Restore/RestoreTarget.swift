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
public protocol RestoreTarget: Sendable {
    /// Where the target points, for people (`sqlite:app.db#users`).
    var location: String { get }

    /// Puts items back. Never replaces an item that exists unless `overwrite` is true.
    /// With `dryRun`, checks each item (does it exist? would it fit?) and changes nothing.
    /// - Returns: one outcome per item, in order.
    /// - Throws: only when the target cannot be used at all (no such table, cannot connect).
    func restore(_ items: [RestoreItem], overwrite: Bool, dryRun: Bool) async throws -> [RestoreOutcome]
}

/// A problem with a restore target or an archived object being restored. Says what to do.
public struct RestoreError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
