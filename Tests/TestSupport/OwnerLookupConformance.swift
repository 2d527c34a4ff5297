import ArchiverCore
import Foundation

/// An owner table for the conformance suite: fresh for each case, keyed by one text attribute (or column).
public protocol OwnerLookupFixture: Sendable {
    /// Puts owners with these ids straight into the table (not through the lookup).
    func insert(_ ids: [String]) async throws

    /// Deletes the owner with this id straight from the table.
    func delete(_ id: String) async throws

    /// A lookup over the fixture's table.
    func lookup() async throws -> any OwnerLookup

    /// A lookup over a table that does not exist, and a word its error must name (the table).
    func missingTable() async throws -> (lookup: any OwnerLookup, name: String)
}

/// The behaviour every `OwnerLookup` must have (see the protocol's documentation), one case at a time, run against
/// each implementation from its adapter's test target:
///
/// ```swift
/// @Test(arguments: OwnerLookupConformance.Case.allCases)
/// func conformsToTheOwnerLookupContract(_ contract: OwnerLookupConformance.Case) async throws {
///     try await OwnerLookupConformance.check(contract, MyFixture())
/// }
/// ```
public enum OwnerLookupConformance {
    /// One point of the contract.
    public enum Case: String, CaseIterable, Sendable, CustomStringConvertible {
        case answersWhetherAnOwnerExists
        case comparesIdsExactly
        case seesWritesMadeAfterItWasCreated
        case answersManyLookupsAtOnce
        case aTableThatCannotBeUsedThrowsAndNeverAnswersNo
        case itsDescriptionNamesTheTable

        /// The case as a sentence, which names the test case.
        public var description: String {
            switch self {
            case .answersWhetherAnOwnerExists: "answers yes for an owner that exists and no for one that does not"
            case .comparesIdsExactly: "compares ids exactly: case, accents, spaces, quotes and separators all count"
            case .seesWritesMadeAfterItWasCreated: "sees owners added and deleted after it was created"
            case .answersManyLookupsAtOnce: "answers many lookups at once, each rightly"
            case .aTableThatCannotBeUsedThrowsAndNeverAnswersNo: "a table that cannot be used throws, naming it, and never answers no"
            case .itsDescriptionNamesTheTable: "its description names the table"
            }
        }
    }

    /// Ids that differ from one another only a little: each must answer for itself alone.
    public static let trickyIds = [
        "abc", "ABC", "abc ", " abc", "caf\u{e9}", "cafe\u{301}", "O'Brien", "say \"hi\"", "50%", "a#b", "a/b", "a_b", "a%b", "\u{1F600}", "123",
        "0123", "1e3",
    ]

    /// Runs one case on a fresh fixture.
    public static func check(_ contract: Case, _ fixture: some OwnerLookupFixture) async throws {
        switch contract {
        case .answersWhetherAnOwnerExists: try await answersWhetherAnOwnerExists(fixture)
        case .comparesIdsExactly: try await comparesIdsExactly(fixture)
        case .seesWritesMadeAfterItWasCreated: try await seesWritesMadeAfterItWasCreated(fixture)
        case .answersManyLookupsAtOnce: try await answersManyLookupsAtOnce(fixture)
        case .aTableThatCannotBeUsedThrowsAndNeverAnswersNo: try await aTableThatCannotBeUsedThrows(fixture)
        case .itsDescriptionNamesTheTable: try await itsDescriptionNamesTheTable(fixture)
        }
    }

    static func answersWhetherAnOwnerExists(_ fixture: some OwnerLookupFixture) async throws {
        try await fixture.insert(["session-1", "session-2"])
        let lookup = try await fixture.lookup()
        try check(try await lookup.ownerExists("session-1"), "an owner that exists was not found")
        try check(try await lookup.ownerExists("session-2"), "the second owner was not found")
        try check(try await lookup.ownerExists("session-3") == false, "an owner that does not exist was found")
        try check(try await lookup.ownerExists("session-") == false, "a prefix of an id was taken for the id")
    }

    static func comparesIdsExactly(_ fixture: some OwnerLookupFixture) async throws {
        let present = trickyIds.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        try await fixture.insert(present)
        let lookup = try await fixture.lookup()
        for id in trickyIds {
            let found = try await lookup.ownerExists(id)
            // By scalars: Swift's == takes "café" composed and decomposed for the same text; the tables do not.
            let expected = present.contains { Array($0.unicodeScalars) == Array(id.unicodeScalars) }
            try check(found == expected, "'\(id)' (\(id.unicodeScalars.map { String($0.value, radix: 16) }.joined(separator: " "))) was \(found ? "" : "not ")found")
        }
    }

    static func seesWritesMadeAfterItWasCreated(_ fixture: some OwnerLookupFixture) async throws {
        try await fixture.insert(["kept"])
        let lookup = try await fixture.lookup()
        try check(try await lookup.ownerExists("late") == false, "an owner not yet written was found")
        try await fixture.insert(["late"])
        try check(try await lookup.ownerExists("late"), "an owner written after the lookup was made was not found")
        try await fixture.delete("kept")
        try check(try await lookup.ownerExists("kept") == false, "an owner deleted after the lookup was made was still found")
    }

    static func answersManyLookupsAtOnce(_ fixture: some OwnerLookupFixture) async throws {
        let ids = (0..<120).map { "item-\($0)" }
        try await fixture.insert(ids.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
        let lookup = try await fixture.lookup()
        let answers = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for (index, id) in ids.enumerated() { group.addTask { (index, try await lookup.ownerExists(id)) } }
            var answers = [Bool](repeating: false, count: ids.count)
            for try await (index, answer) in group { answers[index] = answer }
            return answers
        }
        let wrong = answers.enumerated().filter { $0.element != ($0.offset % 3 == 0) }.map { ids[$0.offset] }
        try check(wrong.isEmpty, "concurrent lookups answered wrongly for \(wrong)")
    }

    static func aTableThatCannotBeUsedThrows(_ fixture: some OwnerLookupFixture) async throws {
        let (lookup, name) = try await fixture.missingTable()
        for attempt in 1...2 {
            do {
                let answer = try await lookup.ownerExists("session-1")
                throw ConformanceFailure("a lookup in a table that cannot be used answered \(answer) (attempt \(attempt)) instead of throwing")
            } catch let error as ConformanceFailure {
                throw error
            } catch {
                try check("\(error)".contains(name), "the error '\(error)' does not name \(name)")
            }
        }
    }

    static func itsDescriptionNamesTheTable(_ fixture: some OwnerLookupFixture) async throws {
        let (lookup, name) = try await fixture.missingTable()
        try check(lookup.description.contains(name), "the description '\(lookup.description)' does not name \(name)")
    }

    static func check(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(message()) }
    }
}
