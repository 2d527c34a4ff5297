import ArchiverCore
import Foundation
import Testing

@Suite struct QueueTimeTests {
    /// The text the queue and the events store must stay what `ISO8601DateFormatter` wrote before (stored times and
    /// event bytes are compared across versions).
    @Test func matchesISO8601DateFormatter() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var generator = SystemRandomNumberGenerator()
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 951_782_400.999), Date(timeIntervalSince1970: 1_706_000_000.5),
            Date(timeIntervalSince1970: 4_102_444_799.9995), Date(timeIntervalSince1970: 1_709_164_800), Date(timeIntervalSince1970: 1_735_689_599.001),
        ]
        for _ in 0..<20_000 {
            dates.append(Date(timeIntervalSince1970: Double.random(in: 0..<4_102_444_800, using: &generator)))
        }
        for _ in 0..<2_000 {
            let millis = Int64.random(in: 0..<4_102_444_800_000, using: &generator)
            dates.append(Date(timeIntervalSince1970: Double(millis) / 1000))
        }
        let mismatches = dates.filter { QueueTime.text($0) != formatter.string(from: $0) }
        #expect(mismatches.count == 0)
        if let first = mismatches.first {
            #expect(QueueTime.text(first) == formatter.string(from: first), "at \(first.timeIntervalSince1970)")
        }
        #expect(QueueTime.text(Date(timeIntervalSince1970: 1_706_000_000.25)) == "2024-01-23T08:53:20.250Z")
    }
}
