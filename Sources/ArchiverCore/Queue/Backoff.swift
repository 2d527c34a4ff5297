import Foundation

/// Where randomness comes from: injected, so tests can fix it.
public protocol RandomSource: Sendable {
    /// A number in [0, 1).
    func unit() -> Double
}

/// The system's generator.
public struct SystemRandom: RandomSource {
    public init() {}
    public func unit() -> Double { Double.random(in: 0..<1) }
}

/// The wait before an entry's next attempt: exponential with full jitter, `random(0, min(max, base · 2^attempt))`
/// (as AWS's SDKs and Oban wait), so that entries failing together do not come back together.
public struct Backoff: Sendable {
    public var base: Double
    public var maximum: Double
    public var random: any RandomSource

    public init(base: Double, maximum: Double, random: any RandomSource = SystemRandom()) {
        self.base = base
        self.maximum = maximum
        self.random = random
    }

    /// From the queue's settings.
    public init(_ settings: QueueSettings, random: any RandomSource = SystemRandom()) {
        self.init(base: settings.backoffBase.seconds, maximum: settings.backoffMax.seconds, random: random)
    }

    /// The ceiling of the wait after `attempt` failed attempts.
    public func ceiling(afterAttempt attempt: Int) -> Double {
        min(maximum, base * pow(2, Double(min(max(attempt, 0), 62))))
    }

    /// The wait after `attempt` failed attempts.
    public func delay(afterAttempt attempt: Int) -> Double {
        random.unit() * ceiling(afterAttempt: attempt)
    }
}
