/// When and how long to wait before retrying a failed AWS call, like the AWS SDKs' "standard" retry mode:
/// a bounded number of attempts and exponential backoff with full jitter.
///
/// Retried: HTTP 5xx (but 501), 429, the throttling and transient error codes (``throttlingErrorCodes``,
/// ``transientErrorCodes``), connection failures, timeouts and truncated bodies. Every other 4xx fails at once.
public struct RetryPolicy: Sendable, Equatable {
    /// The most attempts made for one call, the first included (at least 1).
    public var maxAttempts: Int
    /// The backoff base: the first retry waits up to this long.
    public var baseDelay: Duration
    /// The most any one wait can be.
    public var maxDelay: Duration

    /// Creates a policy.
    public init(maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(20)) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The default: 5 attempts, base 100 ms, cap 20 s.
    public static let standard = RetryPolicy()
    /// One attempt only.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// Error codes meaning "slow down".
    public static let throttlingErrorCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    ]

    /// Error codes of passing failures that a retry usually clears.
    public static let transientErrorCodes: Set<String> = [
        "RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError", "InternalFailure",
        "InternalServerError", "ServiceUnavailable", "RequestTimeTooSkewed", "IDPCommunicationError",
    ]

    /// Whether an error answered by the service is worth retrying.
    public func isRetryable(status: Int, code: String?) -> Bool {
        if let code, Self.throttlingErrorCodes.contains(code) || Self.transientErrorCodes.contains(code) { return true }
        if status == 429 { return true }
        return status >= 500 && status != 501
    }

    /// How long to wait after the failed attempt number `attempt` (1 for the first):
    /// a uniformly random duration in `0 ... min(maxDelay, baseDelay × 2^(attempt-1))` (full jitter).
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = backoffCeiling(afterAttempt: attempt)
        let nanos = Self.nanoseconds(ceiling)
        guard nanos > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanos, using: &generator))
    }

    /// The upper bound of the wait after the failed attempt number `attempt`.
    public func backoffCeiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 62)
        let base = Self.nanoseconds(baseDelay)
        let cap = Self.nanoseconds(maxDelay)
        let grown = base > 0 && exponent < 63 && base <= (Int64.max >> Int64(exponent)) ? base << Int64(exponent) : Int64.max
        return .nanoseconds(min(grown, cap))
    }

    private static func nanoseconds(_ d: Duration) -> Int64 {
        let (seconds, attoseconds) = d.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? 0 : Int64.max }
        return max(0, whole + attoseconds / 1_000_000_000)
    }
}
