import ArchiverCore
import Foundation

/// A place items are restored into (a table, an output) and what it holds, for the conformance suite. Each fixture
/// is fresh: an empty table keyed by `PK` (text) and `SK` (a number), with room for every attribute of
/// ``ConformanceItems/item(_:note:)``, used by one case.
public protocol RestoreTargetFixture: Sendable {
    /// A target over the fixture's table.
    func target() async throws -> any RestoreTarget

    /// The item held under item `n`'s key, as DynamoDB attributes; nil when there is none.
    func stored(_ n: Int) async throws -> Item?

    /// How many items are held.
    func count() async throws -> Int

    /// Puts an item straight into the table, not through the target (for items that exist before a restore).
    func put(_ item: Item) async throws

    /// A target that cannot be used at all (its table does not exist), and a word its error must name.
    func unusableTarget() async throws -> (target: any RestoreTarget, name: String)

    /// A word the target's location must hold (the table's name).
    var locationNames: String { get }
}

/// The behaviour every `RestoreTarget` must have (see the protocol's documentation), one case at a time, run
/// against each implementation from its adapter's test target:
///
/// ```swift
/// @Test(arguments: RestoreTargetConformance.Case.allCases)
/// func conformsToTheRestoreContract(_ contract: RestoreTargetConformance.Case) async throws {
///     try await RestoreTargetConformance.check(contract, MyFixture())
/// }
/// ```
/// A target without a table behind it (standard output) runs the cases that apply to it:
/// `Case.allCases.filter(\.appliesWithoutATable)`. Each check throws ``ConformanceFailure`` naming what broke.
public enum RestoreTargetConformance {
    /// One point of the contract.
    public enum Case: String, CaseIterable, Sendable, CustomStringConvertible {
        case putsBackEveryItemWithItsValues
        case anEmptyBatchChangesNothing
        case theLocationNamesTheTarget
        case neverOverwritesAnExistingItemUnlessAsked
        case aDryRunChangesNothing
        case anItemMissingAKeyAttributeFailsAlone
        case aTargetThatCannotBeUsedThrows

        /// The case as a sentence, which names the test case.
        public var description: String {
            switch self {
            case .putsBackEveryItemWithItsValues: "puts back every item with its values, one outcome each, in order"
            case .anEmptyBatchChangesNothing: "an empty batch changes nothing"
            case .theLocationNamesTheTarget: "its location names where it points"
            case .neverOverwritesAnExistingItemUnlessAsked: "restore never overwrites an existing item unless asked"
            case .aDryRunChangesNothing: "a dry run changes nothing and reports what a real run would"
            case .anItemMissingAKeyAttributeFailsAlone: "an item missing a key attribute fails alone"
            case .aTargetThatCannotBeUsedThrows: "a target that cannot be used throws, naming it"
            }
        }

        /// Whether the case applies to a target with no table behind it, where nothing exists before a restore.
        public var appliesWithoutATable: Bool {
            switch self {
            case .putsBackEveryItemWithItsValues, .anEmptyBatchChangesNothing, .theLocationNamesTheTarget: true
            default: false
            }
        }
    }

    /// Runs one case on a fresh fixture.
    public static func check(_ contract: Case, _ fixture: some RestoreTargetFixture) async throws {
        switch contract {
        case .putsBackEveryItemWithItsValues: try await putsBackEveryItemWithItsValues(fixture)
        case .anEmptyBatchChangesNothing: try await anEmptyBatchChangesNothing(fixture)
        case .theLocationNamesTheTarget: try await theLocationNamesTheTarget(fixture)
        case .neverOverwritesAnExistingItemUnlessAsked: try await neverOverwritesAnExistingItemUnlessAsked(fixture)
        case .aDryRunChangesNothing: try await aDryRunChangesNothing(fixture)
        case .anItemMissingAKeyAttributeFailsAlone: try await anItemMissingAKeyAttributeFailsAlone(fixture)
        case .aTargetThatCannotBeUsedThrows: try await aTargetThatCannotBeUsedThrows(fixture)
        }
    }

    /// Item `n` on its way back, as the restorer hands it over.
    public static func restoreItem(_ n: Int, note: String? = nil) -> RestoreItem {
        RestoreItem(archiveKey: "2024/01/15/ITEM#\(n)_\(n).103000.\(n).manual.json.gz", keys: ConformanceItems.keys(n), item: ConformanceItems.item(n, note: note))
    }

    // MARK: The cases

    static func putsBackEveryItemWithItsValues(_ fixture: some RestoreTargetFixture) async throws {
        let target = try await fixture.target()
        let outcomes = try await target.restore((0..<30).map { restoreItem($0) }, overwrite: false, dryRun: false)
        try check(outcomes == Array(repeating: .restored, count: 30), "restoring 30 new items gave \(outcomes)")
        for n in 0..<30 {
            let stored = try await fixture.stored(n)
            try check(stored == ConformanceItems.item(n),
                      "item \(n) came back as \(stored.map(ConformanceItems.dynamoJSON) ?? "nothing"), not \(ConformanceItems.dynamoJSON(ConformanceItems.item(n)))")
        }
        let count = try await fixture.count()
        try check(count == 30, "the table holds \(count) items after restoring 30")
    }

    static func anEmptyBatchChangesNothing(_ fixture: some RestoreTargetFixture) async throws {
        let outcomes = try await fixture.target().restore([], overwrite: false, dryRun: false)
        try check(outcomes.isEmpty, "an empty batch gave outcomes \(outcomes)")
        let count = try await fixture.count()
        try check(count == 0, "an empty batch left \(count) items")
    }

    static func theLocationNamesTheTarget(_ fixture: some RestoreTargetFixture) async throws {
        let location = try await fixture.target().location
        try check(location.contains(fixture.locationNames), "the location '\(location)' does not name \(fixture.locationNames)")
    }

    static func neverOverwritesAnExistingItemUnlessAsked(_ fixture: some RestoreTargetFixture) async throws {
        let target = try await fixture.target()
        let newer = ConformanceItems.item(1, note: "written after the deletion")
        try await fixture.put(newer)
        let outcomes = try await target.restore([restoreItem(0), restoreItem(1), restoreItem(2)], overwrite: false, dryRun: false)
        try check(outcomes[0] == .restored && outcomes[2] == .restored, "the items around an existing one gave \(outcomes)")
        guard case .exists(let message) = outcomes[1] else {
            throw ConformanceFailure("an item that exists gave \(outcomes[1]), not .exists")
        }
        try check(message.contains("--overwrite") && message.contains("ITEM#1"), "the message '\(message)' names neither the item nor --overwrite")
        try check(try await fixture.stored(1) == newer, "the existing item was replaced without --overwrite")
        // A second restore of items it put back finds them there too.
        let again = try await target.restore([restoreItem(0)], overwrite: false, dryRun: false)
        guard case .exists = again[0] else { throw ConformanceFailure("restoring item 0 a second time gave \(again)") }
        // Asked to, it replaces the item with the archived one.
        let replaced = try await target.restore([restoreItem(1)], overwrite: true, dryRun: false)
        try check(replaced == [.restored], "overwriting gave \(replaced)")
        try check(try await fixture.stored(1) == ConformanceItems.item(1), "overwriting did not put the archived item back")
        let count = try await fixture.count()
        try check(count == 3, "the table holds \(count) items, not 3")
    }

    static func aDryRunChangesNothing(_ fixture: some RestoreTargetFixture) async throws {
        let target = try await fixture.target()
        let newer = ConformanceItems.item(1, note: "written after the deletion")
        try await fixture.put(newer)
        let items = [restoreItem(0), restoreItem(1), restoreItem(2)]
        let dry = try await target.restore(items, overwrite: false, dryRun: true)
        let count = try await fixture.count()
        try check(count == 1, "a dry run left \(count) items, not the 1 there before")
        try check(try await fixture.stored(0) == nil, "a dry run put item 0 in")
        let dryOverwrite = try await target.restore([restoreItem(1)], overwrite: true, dryRun: true)
        try check(dryOverwrite == [.restored], "a dry run with --overwrite gave \(dryOverwrite)")
        try check(try await fixture.stored(1) == newer, "a dry run with --overwrite replaced the item")
        let real = try await target.restore(items, overwrite: false, dryRun: false)
        try check(dry == real, "the dry run said \(dry); the real run did \(real)")
    }

    static func anItemMissingAKeyAttributeFailsAlone(_ fixture: some RestoreTargetFixture) async throws {
        let target = try await fixture.target()
        var broken = restoreItem(1)
        broken.item.attributes.removeAll { $0.0 == "SK" }
        broken.keys.removeAll { $0.name == "SK" }
        let outcomes = try await target.restore([restoreItem(0), broken, restoreItem(2)], overwrite: false, dryRun: false)
        try check(outcomes.count == 3 && outcomes[0] == .restored && outcomes[2] == .restored, "the items around a broken one gave \(outcomes)")
        guard case .failed(let message) = outcomes[1] else {
            throw ConformanceFailure("an item without its sort key gave \(outcomes[1]), not .failed")
        }
        try check(message.contains("SK"), "the failure '\(message)' does not name the missing key attribute SK")
        let (first, third) = (try await fixture.stored(0), try await fixture.stored(2))
        try check(first == ConformanceItems.item(0) && third == ConformanceItems.item(2), "the good items were not restored as they were")
        let count = try await fixture.count()
        try check(count == 2, "the table holds \(count) items, not the 2 good ones")
    }

    static func aTargetThatCannotBeUsedThrows(_ fixture: some RestoreTargetFixture) async throws {
        let (target, name) = try await fixture.unusableTarget()
        do {
            let outcomes = try await target.restore([restoreItem(0)], overwrite: false, dryRun: false)
            throw ConformanceFailure("a target that cannot be used gave \(outcomes) instead of throwing")
        } catch let error as RestoreError {
            try check(error.kind == .unusableTarget, "a target that cannot be used threw a RestoreError of kind \(error.kind)")
            try check(error.description.contains(name), "the error '\(error)' does not name \(name)")
        }
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(message()) }
    }
}
