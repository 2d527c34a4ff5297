/// How long to wait before restarting a failed tail: `base · 2^(failures−1)`, at most `maximum`, with "equal jitter"
/// (half fixed, half random), so that tails that failed together do not all come back at once, and none comes back
/// at once.
struct RestartBackoff: Sendable {
    var base: Double
    var maximum: Double

    /// The wait after the `failures`-th failure in a row (1-based).
    func delay(afterFailures failures: Int, random: Double = Double.random(in: 0...1)) -> Double {
        let exponential = min(maximum, base * Double(1 << min(max(failures - 1, 0), 30)))
        return exponential / 2 + exponential / 2 * random
    }
}
