import ArchiverCore
import Foundation
import Testing
import TestSupport

@Suite("lifecycle plan: requests and transitions per month in each layout")
struct LayoutCostTests {
    @Test func eachLayoutIsWorkedOutFromTheOthersObjects() async throws {
        let f = try BatchedFixture(records: 7000, label: "costs")
        defer { f.folder.remove() }
        try await f.tail("p", state: "sp", layout: .perRecord)
        try await f.tail("b", state: "sb", limits: BatchLimits())
        let now = Date(timeIntervalSince1970: 1_735_689_600)  // 2025-01-01
        let policy = LifecyclePolicy.default
        let fromPerRecord = try #require(try await LifecyclePlanner(store: try LocalArchiveStore(path: f.folder("p"), access: .readOnly), policy: policy, now: now).plan().costs)
        let fromBatched = try #require(try await LifecyclePlanner(store: try LocalArchiveStore(path: f.folder("b"), access: .readOnly), policy: policy, now: now).plan().costs)
        for costs in [fromPerRecord, fromBatched] {
            #expect(costs.records == f.counts.removes)
            #expect(costs.days == 4, "7,000 sample records 37 s apart from 10:50 on the 15th span four days")
            let perRecord = costs.layouts[0]
            #expect(perRecord.layout == .perRecord && perRecord.objects == f.counts.removes)
            #expect(perRecord.movable == 0 && perRecord.transitionCost == 0, "S3 moves no object under 128 KiB")
            #expect(abs(perRecord.putsPerMonth - Double(f.counts.removes) * 30.44 / 4) < 0.01)
            #expect(abs(perRecord.requestCost - perRecord.putsPerMonth / 1000 * 0.005) < 1e-9)
        }
        #expect(fromPerRecord.layouts[1].estimated && !fromPerRecord.layouts[0].estimated)
        #expect(fromBatched.layouts[0].estimated && !fromBatched.layouts[1].estimated)
        // The estimate cuts the per-record objects as the tail cut them: the same objects, the same ones movable.
        let actual = fromBatched.layouts[1]
        let estimate = fromPerRecord.layouts[1]
        #expect(estimate.objects == actual.objects && estimate.movable == actual.movable)
        #expect(actual.movable > 0 && actual.movable * 2 <= actual.objects, "the data objects (not their small indexes) are movable")
        #expect(actual.transitionsPerMonth["STANDARD_IA"] == actual.transitionsPerMonth["GLACIER"])
        #expect(abs(actual.transitionCost - (actual.transitionsPerMonth["STANDARD_IA"]! * 0.01 + actual.transitionsPerMonth["GLACIER"]! * 0.03) / 1000) < 1e-9)
        #expect(actual.putsPerMonth * 50 < fromBatched.layouts[0].putsPerMonth)
    }

    @Test func pricesComeFromAFileWithTheirSource() throws {
        let folder = TemporaryFolder("prices")
        defer { folder.remove() }
        try Data(#"{"source":"eu-west-1, 2025-03","put_per_1000":0.0054,"transition_per_1000":{"GLACIER":0.0396}}"#.utf8).write(to: URL(fileURLWithPath: folder("p.json")))
        let prices = try S3RequestPrices.load(path: folder("p.json"))
        #expect(prices.source == "eu-west-1, 2025-03" && prices.putPer1000 == 0.0054 && prices.transitionPer1000 == ["GLACIER": 0.0396])
        try Data(#"{"source":"x","put_per_1000":1,"transition_per_1000":{"GLACIERS":1}}"#.utf8).write(to: URL(fileURLWithPath: folder("bad.json")))
        let error = #expect(throws: PriceTableError.self) { try S3RequestPrices.load(path: folder("bad.json")) }
        #expect(error?.description.contains("GLACIERS") == true)
        #expect(S3RequestPrices.usEast1.source.contains("2024"))
    }
}
