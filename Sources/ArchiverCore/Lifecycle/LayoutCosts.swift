import Foundation

/// S3 request prices: what a PUT and each lifecycle transition cost, per 1,000 requests (USD).
///
/// The defaults are Amazon S3's list prices for US East (N. Virginia), as the S3 pricing page gave them in 2024
/// (unchanged since the Glacier request price cut of November 2021). Prices change and differ by region: give
/// yours with `lifecycle plan --prices <file>`, a JSON document of this shape:
///
///     {"source": "…", "put_per_1000": 0.005,
///      "transition_per_1000": {"STANDARD_IA": 0.01, "GLACIER": 0.03, …}}
public struct S3RequestPrices: Codable, Sendable, Equatable {
    /// Where the prices come from, with their date.
    public var source: String
    /// PUT, COPY, POST and LIST requests to S3 Standard.
    public var putPer1000: Double
    /// Lifecycle transition requests into each storage class.
    public var transitionPer1000: [String: Double]

    enum CodingKeys: String, CodingKey {
        case source
        case putPer1000 = "put_per_1000"
        case transitionPer1000 = "transition_per_1000"
    }

    public init(source: String, putPer1000: Double, transitionPer1000: [String: Double]) {
        self.source = source
        self.putPer1000 = putPer1000
        self.transitionPer1000 = transitionPer1000
    }

    /// Amazon S3 list prices, us-east-1, 2024.
    public static let usEast1 = S3RequestPrices(
        source: "Amazon S3 list prices, US East (N. Virginia), 2024",
        putPer1000: 0.005,
        transitionPer1000: [
            "STANDARD_IA": 0.01, "INTELLIGENT_TIERING": 0.01, "ONEZONE_IA": 0.01, "GLACIER_IR": 0.02, "GLACIER": 0.03, "DEEP_ARCHIVE": 0.05,
        ])

    /// Reads a price table.
    /// - Throws: `LifecyclePolicyError`-like text naming the file and what is wrong.
    public static func load(path: String) throws -> S3RequestPrices {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw PriceTableError("cannot read the price table \(FileSystem.absolute(path)): \((error as NSError).localizedDescription)")
        }
        let prices: S3RequestPrices
        do {
            prices = try JSONDecoder().decode(S3RequestPrices.self, from: data)
        } catch {
            throw PriceTableError("\(path) is not a price table (\(error)); write {\"source\": \"…\", \"put_per_1000\": 0.005, \"transition_per_1000\": {\"STANDARD_IA\": 0.01, \"GLACIER\": 0.03}}")
        }
        if let unknown = prices.transitionPer1000.keys.first(where: { StorageClass(rawValue: $0) == nil }) {
            throw PriceTableError("\(path): '\(unknown)' is not a storage class; use " + StorageClass.transitionTargets.map(\.rawValue).joined(separator: ", "))
        }
        return prices
    }
}

/// A price table that cannot be read.
public struct PriceTableError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What one layout of the archive's records costs in requests and lifecycle transitions per month.
public struct LayoutCost: Codable, Sendable, Equatable {
    public var layout: ArchiveLayout
    /// True when worked out from the other layout's objects (the archive is not in this layout).
    public var estimated: Bool
    /// Objects the records make (for a batched archive: data objects and their indexes).
    public var objects: Int
    /// Of those, the objects the policy's transitions can move (S3 moves nothing under 128 KiB by default).
    public var movable: Int
    /// PUT requests per month, at the rate the archive's records came in.
    public var putsPerMonth: Double
    /// Lifecycle transitions per month, by storage class.
    public var transitionsPerMonth: [String: Double]
    /// USD per month.
    public var requestCost: Double
    public var transitionCost: Double

    enum CodingKeys: String, CodingKey {
        case layout, estimated, objects, movable
        case putsPerMonth = "puts_per_month"
        case transitionsPerMonth = "transitions_per_month"
        case requestCost = "request_cost_per_month"
        case transitionCost = "transition_cost_per_month"
    }
}

/// Both layouts of the archive's records side by side.
public struct LayoutCostComparison: Codable, Sendable, Equatable {
    public var prices: S3RequestPrices
    /// Records in the archive, and the days their deletions span (the monthly figures scale from these).
    public var records: Int
    public var days: Int
    public var layouts: [LayoutCost]
}

/// Counts, during the plan's one pass over the listing, what each layout of the archive's records would be.
struct LayoutCostTally {
    let layout: ArchiveLayout
    let limits: BatchLimits
    let evaluators: [LifecycleRuleEvaluator]
    let prices: S3RequestPrices
    /// 21 bytes: the newline member after each record in a batched object.
    let newline = Int64(newlineMember(gzipLevel: GzipEncoder.defaultLevel).count)

    var records = 0
    var firstDay: Int64 = .max
    var lastDay: Int64 = .min
    var perRecord = Counts()
    var batched = Counts()
    /// The day being listed in a per-record archive: its records' times and sizes, cut into objects at its end.
    var day: String?
    var held: [(seconds: Int, size: Int64)] = []

    struct Counts {
        var objects = 0
        var movable = 0
        var transitions: [StorageClass: Int] = [:]
    }

    init(layout: ArchiveLayout, limits: BatchLimits, evaluators: [LifecycleRuleEvaluator], prices: S3RequestPrices) {
        self.layout = layout
        self.limits = limits
        self.evaluators = evaluators
        self.prices = prices
    }

    /// The transitions the first enabled rule with any makes of an object (each happens once in its life).
    func transitions(key: String, size: Int64) -> [StorageClass] {
        guard let rule = evaluators.first(where: { $0.matches(key: key, size: size) && !$0.transitions.isEmpty }) else { return [] }
        return rule.transitions.filter { transition in
            if let days = transition.days, let expiry = rule.expirationDays, days >= expiry { return false }
            return rule.hasSizeFilter || rule.minimumSize.allows(size: size, into: transition.storageClass)
        }.map(\.storageClass)
    }

    mutating func count(_ layout: ArchiveLayout, key: String, size: Int64, times: Int = 1) {
        let moves = transitions(key: key, size: size)
        func add(_ counts: inout Counts) {
            counts.objects += times
            if !moves.isEmpty { counts.movable += times }
            for move in moves { counts.transitions[move, default: 0] += times }
        }
        if layout == .batched { add(&batched) } else { add(&perRecord) }
    }

    mutating func note(day datePath: Substring) {
        let parts = datePath.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 3 else { return }
        let number = DeletionTime.days(year: parts[0], month: parts[1], day: parts[2])
        firstDay = min(firstDay, number)
        lastDay = max(lastDay, number)
    }

    mutating func add(_ object: StoredObject) {
        if let key = ArchiveKey(path: object.key) {
            records += 1
            note(day: Substring(key.time.datePath))
            count(.perRecord, key: object.key, size: object.size)
            let folder = key.time.datePath
            if folder != day { cutHeldDay() }
            day = folder
            held.append((key.time.hour * 3600 + key.time.minute * 60 + key.time.second, object.size))
        } else if let name = BatchedObjectName(dataKey: object.key) {
            records += name.records
            note(day: Substring(name.datePath))
            count(.batched, key: object.key, size: object.size)
            let each = max(1, (object.size - newline * Int64(name.records)) / Int64(name.records))
            count(.perRecord, key: name.datePath + "/", size: each, times: name.records)
        } else if BatchedObjectName(indexKey: object.key) != nil {
            count(.batched, key: object.key, size: object.size)
        }
    }

    /// Cuts the held day's records into objects as a batched tail would (in deletion-time order).
    mutating func cutHeldDay() {
        guard let day else { return }
        held.sort { $0.seconds < $1.seconds }
        var size: Int64 = 0
        var count = 0
        var window = -1
        func close(_ tally: inout LayoutCostTally) {
            guard count > 0 else { return }
            tally.count(.batched, key: day + "/", size: size)
            // Its index: about 48 bytes a record, compressed (47 on generated feeds).
            tally.count(.batched, key: day + "/_", size: Int64(count) * 48 + 64)
            size = 0
            count = 0
        }
        for record in held {
            let recordWindow = record.seconds / limits.window
            if count > 0 && (count >= limits.maxRecords || size + record.size + newline > Int64(limits.maxBytes)
                || (recordWindow != window && size >= Int64(limits.minBytes))) {
                close(&self)
            }
            size += record.size + newline
            count += 1
            window = recordWindow
        }
        close(&self)
        held.removeAll(keepingCapacity: true)
    }

    mutating func finish() -> LayoutCostComparison {
        if layout == .perRecord { cutHeldDay() }
        let days = records == 0 ? 0 : Int(lastDay - firstDay + 1)
        let scale = days == 0 ? 0 : 30.44 / Double(days)
        func cost(_ layout: ArchiveLayout, _ counts: Counts) -> LayoutCost {
            let transitions = Dictionary(uniqueKeysWithValues: counts.transitions.map { ($0.key.rawValue, Double($0.value) * scale) })
            let transitionCost = transitions.reduce(0.0) { $0 + $1.value / 1000 * (prices.transitionPer1000[$1.key] ?? 0) }
            return LayoutCost(
                layout: layout, estimated: layout != self.layout, objects: counts.objects, movable: counts.movable,
                putsPerMonth: Double(counts.objects) * scale, transitionsPerMonth: transitions,
                requestCost: Double(counts.objects) * scale / 1000 * prices.putPer1000, transitionCost: transitionCost)
        }
        return LayoutCostComparison(prices: prices, records: records, days: days, layouts: [cost(.perRecord, perRecord), cost(.batched, batched)])
    }
}

extension LayoutCostComparison {
    /// The comparison as aligned text.
    public var textLines: [String] {
        guard records > 0 else { return [] }
        var rows = [["LAYOUT", "OBJECTS", "MOVABLE", "PUTS/MONTH", "TRANSITIONS/MONTH", "REQUESTS $", "TRANSITIONS $", "TOTAL $/MONTH"]]
        for cost in layouts {
            let transitions = cost.transitionsPerMonth.values.reduce(0, +)
            rows.append([
                cost.layout.rawValue + (cost.estimated ? " (estimate)" : ""), "\(cost.objects)", "\(cost.movable)", Self.count(cost.putsPerMonth),
                Self.count(transitions), Self.money(cost.requestCost), Self.money(cost.transitionCost), Self.money(cost.requestCost + cost.transitionCost),
            ])
        }
        return ["", "Requests and transitions per month, at the rate of the archive's \(records) records over \(days) days (\(prices.source); --prices to change):"]
            + TextTable(alignments: [.left] + Array(repeating: .right, count: 7)).lines(rows)
    }

    static func count(_ value: Double) -> String { value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value) }
    static func money(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : value >= 1 || value == 0 ? String(format: "%.2f", value) : String(format: "%.4f", value)
    }
}
