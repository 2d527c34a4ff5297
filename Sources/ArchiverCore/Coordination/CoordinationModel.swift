import Foundation

/// Where a coordination stands:
///
///     waiting ─► released  (every consumer answered) ─┐
///        │   ─► timed-out (some optional consumer did not answer in time) ─┼─► completed (every action finished or parked)
///        └─► parked (a critical consumer failed or timed out: waits for a person: release or cancel)
public enum CoordinationState: String, Sendable, CaseIterable, Codable {
    case waiting, released
    case timedOut = "timed-out"
    case completed, parked
}

/// Where one expected consumer stands.
public enum ConsumerStatus: String, Sendable, CaseIterable, Codable {
    case waiting, completed, failed
    case timedOut = "timed-out"
}

/// What a consumer says about its work.
public enum AckStatus: String, Sendable, CaseIterable, Codable {
    case completed, failed
}

/// What an ack did.
public struct AckResult: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        /// Recorded; the coordination may have been decided by it (see `state`).
        case recorded
        /// The same answer was recorded before; nothing changed.
        case duplicate
        /// Came after the coordination was decided or the consumer's wait ran out: recorded as late, nothing else changed.
        case late
        /// The consumer's wait was extended (to `deadline`).
        case heartbeat
    }

    public var outcome: Outcome
    /// The coordination's state after the ack.
    public var state: CoordinationState
    /// The new deadline, for a heartbeat.
    public var deadline: Date?
}

/// An ack or a decision that cannot be taken.
public struct CoordinationError: Error, Sendable, CustomStringConvertible {
    private enum Kind: Sendable {
        case unknown(String)
        case unexpectedConsumer(String, coordination: String, expected: [String])
        case notWaiting(String, state: String)
    }

    private let kind: Kind

    static func unknown(_ id: String) -> CoordinationError { CoordinationError(kind: .unknown(id)) }
    static func unexpectedConsumer(_ consumer: String, coordination: String, expected: [String]) -> CoordinationError {
        CoordinationError(kind: .unexpectedConsumer(consumer, coordination: coordination, expected: expected))
    }
    static func notWaiting(_ id: String, state: String) -> CoordinationError { CoordinationError(kind: .notWaiting(id, state: state)) }

    /// Whether the coordination does not exist.
    public var isUnknown: Bool { if case .unknown = kind { true } else { false } }
    /// Whether the consumer is not one the coordination waits for.
    public var isUnexpectedConsumer: Bool { if case .unexpectedConsumer = kind { true } else { false } }

    public var description: String {
        switch kind {
        case .unknown(let id):
            "there is no coordination \(id); check the id (the coordination_id of its deletion.requested event, or `archiver coordination list`)"
        case .unexpectedConsumer(let consumer, let id, let expected):
            "the coordination \(id) does not wait for a consumer named '\(consumer)'; it waits for \(expected.map { "'\($0)'" }.joined(separator: ", "))"
        case .notWaiting(let id, let state):
            "the coordination \(id) is \(state), not waiting or parked; there is nothing to decide"
        }
    }
}
