import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite("Metrics file: Prometheus text format for the textfile collector")
struct MetricsTextFileTests {
    @Test func countersAddUpAcrossRunsAndGaugesDescribeTheLast() throws {
        let folder = TemporaryFolder("metrics")
        defer { folder.remove() }
        let file = MetricsTextFile(path: folder("archiver_cleanup.prom"))
        let first = try file.write(
            counters: [.init(name: "archiver_cleanup_objects_deleted_total", help: "Objects deleted.", value: 3)],
            gauges: [.init(name: "archiver_cleanup_duration_seconds", help: "How long.", value: 1.25)])
        #expect(first["archiver_cleanup_objects_deleted_total"] == 3)
        let text = try String(contentsOfFile: folder("archiver_cleanup.prom"), encoding: .utf8)
        #expect(text == """
            # HELP archiver_cleanup_objects_deleted_total Objects deleted.
            # TYPE archiver_cleanup_objects_deleted_total counter
            archiver_cleanup_objects_deleted_total 3
            # HELP archiver_cleanup_duration_seconds How long.
            # TYPE archiver_cleanup_duration_seconds gauge
            archiver_cleanup_duration_seconds 1.25

            """)
        try file.write(
            counters: [.init(name: "archiver_cleanup_objects_deleted_total", help: "Objects deleted.", value: 4)],
            gauges: [.init(name: "archiver_cleanup_duration_seconds", help: "How long.", value: 0.5)])
        #expect(file.readValues() == ["archiver_cleanup_objects_deleted_total": 7, "archiver_cleanup_duration_seconds": 0.5])
        // Written whole, then renamed: no temporary file is left, and the collector (another user) can read it.
        #expect(folder.files() == ["archiver_cleanup.prom"])
        let mode = try FileManager.default.attributesOfItem(atPath: folder("archiver_cleanup.prom"))[.posixPermissions] as? Int
        #expect(mode == 0o644)
    }

    @Test func aFolderThatDoesNotExistIsAnErrorAndTheOldFileStays() throws {
        let error = #expect(throws: StateError.self) {
            try MetricsTextFile(path: "/nonexistent-folder/archiver.prom").write(counters: [], gauges: [])
        }
        #expect(error?.description.contains("/nonexistent-folder") == true)
    }

    @Test func theSummaryGivesEveryCountAsACounterAndTheLastRunAsGauges() {
        var summary = CleanupSummary(dryRun: false, startedAt: Date(timeIntervalSince1970: 1_000), durationSeconds: 2)
        var counts = CleanupCounts()
        counts.objectsDeleted = 5
        counts.errors = 1
        summary.add(counts, problems: [], in: "s3://b/")
        let (counters, gauges) = summary.metrics
        #expect(counters.first { $0.name == "archiver_cleanup_objects_deleted_total" }?.value == 5)
        #expect(counters.first { $0.name == "archiver_cleanup_runs_total" }?.value == 1)
        #expect(counters.count == CleanupCounts().named.count + 1)
        #expect(counters.allSatisfy { $0.name.hasSuffix("_total") && !$0.help.isEmpty })
        #expect(gauges.map(\.name) == ["archiver_cleanup_duration_seconds", "archiver_cleanup_last_run_timestamp_seconds", "archiver_cleanup_last_run_errors"])
        #expect(gauges[1].value == 1_002 && gauges[2].value == 1)
    }
}
