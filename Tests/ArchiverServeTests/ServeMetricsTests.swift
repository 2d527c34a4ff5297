import ArchiverCore
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import ArchiverServe

@Suite("Serve: metrics")
struct ServeMetricsTests {
    @Test("the pipeline's counters match its summary, by source, kind, event and code; requests are timed by route")
    func countersMatchTheSummary() async throws {
        PrometheusExport.bootstrap()
        let bed = try await ServeTestbed(records: 1000)
        let counts = bed.counts
        try await bed.test { client in
            _ = try await client.authorized("/api/v1/stats")
            let text = try await client.execute(uri: "/metrics", method: .get).text
            let source = "source=\"jsonl:\(bed.feed)\""
            func value(_ name: String, _ labels: String...) -> Double? {
                for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
                    let parts = line.split(separator: " ")
                    if labels.allSatisfy({ parts[0].contains($0) }) { return Double(parts[1]) }
                }
                return nil
            }
            #expect(value(MetricNames.recordsRead, source) == Double(counts.total))
            #expect(value(MetricNames.recordsArchived, source, "kind=\"manual\"") == Double(counts.removesManual))
            #expect(value(MetricNames.recordsArchived, source, "kind=\"ttl\"") == Double(counts.removesTTL))
            #expect(value(MetricNames.recordsPassedOver, source, "event=\"INSERT\"") == Double(counts.inserts))
            #expect(value(MetricNames.recordsPassedOver, source, "event=\"MODIFY\"") == Double(counts.modifies))
            #expect(value(MetricNames.recordsDeadLettered, source, "code=\"malformed-json\"") == Double(counts.malformed))
            #expect(value(MetricNames.archiveWrites, source) == Double(counts.removes))
            // Process-wide values (other tests in this process serve requests too): present, at least this test's.
            #expect(value(MetricNames.deadLetters) != nil)
            #expect((value(MetricNames.httpRequestSeconds + "_count", "route=\"/api/v1/stats\"", "status=\"200\"") ?? 0) >= 1)
            #expect(text.contains("# TYPE \(MetricNames.httpRequestSeconds) histogram"))
            // No path, query or record data in the labels.
            #expect(!text.contains("USER#"))
        }
    }
}
