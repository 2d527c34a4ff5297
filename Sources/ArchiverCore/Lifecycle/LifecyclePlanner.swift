import Foundation

/// Works out what a lifecycle policy does to an archive on a given day, and carries out its expiry.
///
/// - Age: S3 counts an object's age from its creation. For an archive this is the deletion time in the
///   archive key (`ArchiveKey(path:)`), falling back to the object's modification time for keys that are
///   not archive names (see `LifecycleAgeBasis`). An action of `Days: N` is due from the first midnight UTC
///   at or after creation + N days: on a day when the object's age in whole days at 00:00 UTC is at least N.
///   An action on a `Date` is due from that day (for objects created later, from the midnight after).
/// - Today: the UTC day holding `now`. An object "moves today" when its class under the rule today differs
///   from yesterday's; it "expires" when its expiry is due today or was due before and it is still here.
/// - Size: S3 declines to move small objects (`TransitionMinimumObjectSize`); the plan says so.
/// - Several rules: each rule is counted on its own; `enforce` deletes an object once, under the first
///   enabled rule (in policy order) whose expiry is due for it.
/// - Memory: the listing is read a page at a time and only counts are kept, so millions of keys take
///   constant memory.
public struct LifecyclePlanner: Sendable {
    /// How to read the archive.
    public struct Options: Sendable {
        /// Where an object's age is counted from.
        public var ageBasis: LifecycleAgeBasis
        /// Which small objects S3 declines to move (the bucket's setting; S3's default when unsure).
        public var transitionMinimumObjectSize: TransitionMinimumObjectSize
        /// What stands before the store's keys in the bucket (`p/` for `s3://bucket/p`): the policy's
        /// prefixes are matched against whole bucket keys. "" for a local folder.
        public var keyPrefix: String
        /// Whether the store keeps storage classes (S3 does, a local folder does not).
        public var storageClasses: Bool
        /// How many keys `enforce` deletes at a time (S3's DeleteObjects takes at most 1000).
        public var deleteBatchSize: Int
        /// Where the policy came from, for reports.
        public var policySource: String?
        /// The prices `plan` compares the two layouts' requests and transitions with; nil: no comparison.
        public var prices: S3RequestPrices? = .usEast1
        /// How a batched archive of the same records would be cut (for the comparison).
        public var batching = BatchLimits()

        public init(
            ageBasis: LifecycleAgeBasis = .deletionTime,
            transitionMinimumObjectSize: TransitionMinimumObjectSize = .allStorageClasses128K,
            keyPrefix: String = "", storageClasses: Bool = false, deleteBatchSize: Int = 1000, policySource: String? = nil
        ) {
            self.ageBasis = ageBasis
            self.transitionMinimumObjectSize = transitionMinimumObjectSize
            self.keyPrefix = keyPrefix
            self.storageClasses = storageClasses
            self.deleteBatchSize = max(1, min(deleteBatchSize, 1000))
            self.policySource = policySource
        }
    }

    /// The archive read (and, by `enforce`, pruned).
    public let store: any ArchiveStore
    /// The policy, as loaded (validated).
    public let policy: LifecyclePolicy
    /// The UTC day planned for.
    public let today: LifecycleDay
    /// How the archive is read.
    public var options: Options
    let evaluators: [LifecycleRuleEvaluator]

    /// - Parameters:
    ///   - now: the moment to plan for; only its UTC day matters. Injected, so plans are reproducible.
    public init(store: any ArchiveStore, policy: LifecyclePolicy, now: Date, options: Options = Options()) {
        self.store = store
        self.policy = policy
        self.today = LifecycleDay(containing: now)
        self.options = options
        evaluators = policy.rules.enumerated().map {
            LifecycleRuleEvaluator(rule: $1, index: $0, keyPrefix: options.keyPrefix, minimumSize: options.transitionMinimumObjectSize)
        }
    }

    /// When an object was created, as lifecycle counts it; nil when it cannot be known.
    func creationSeconds(of object: StoredObject) -> Int64? {
        let modified = object.lastModified.map { Int64($0.timeIntervalSince1970.rounded(.down)) }
        switch options.ageBasis {
        case .deletionTime: return Self.deletionSeconds(object.key) ?? modified
        case .lastModified: return modified ?? Self.deletionSeconds(object.key)
        }
    }

    /// The deletion time a key names: a per-record object's, or for a batched object or index, or a subject index
    /// object, its latest record's (when the tail wrote it: S3's creation time of the object is about then). So an
    /// expiry over the whole archive deletes a subject index object with the last of the records it names.
    static func deletionSeconds(_ key: String) -> Int64? {
        if let archiveKey = ArchiveKey(path: key) { return archiveKey.time.epochSeconds }
        let named: (datePath: String, last: Int)
        if let name = BatchedObjectName(dataKey: key) ?? BatchedObjectName(indexKey: key) {
            named = (name.datePath, name.last)
        } else if let name = SubjectIndexObjects.Name(key: key) {
            named = (name.datePath, name.last)
        } else {
            return nil
        }
        let parts = named.datePath.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 3 else { return nil }
        return DeletionTime.days(year: parts[0], month: parts[1], day: parts[2]) * 86_400 + Int64(named.last)
    }

    /// Counts, for each rule, the objects in each tier, today's moves and the objects past expiry.
    /// Reads the whole archive listing once; deletes nothing.
    public func plan() async throws -> LifecyclePlan {
        var counters = evaluators.map { RuleCounters(evaluator: $0) }
        var scanned = ObjectTally()
        var unmatched = ObjectTally()
        var undated = ObjectTally()
        let yesterday = today.adding(days: -1)
        var costs: LayoutCostTally?
        if let prices = options.prices {
            costs = LayoutCostTally(layout: try await LayoutManifest.layout(of: store), limits: options.batching, evaluators: evaluators, prices: prices)
        }
        for try await page in store.list(prefix: "") {
            try Task.checkCancellation()
            for object in page where object.key != LayoutManifest.key {
                costs?.add(object)
                scanned.add(object.size)
                guard let created = creationSeconds(of: object) else {
                    undated.add(object.size)
                    continue
                }
                var covered = false
                for index in counters.indices where evaluators[index].matches(key: object.key, size: object.size) {
                    covered = covered || evaluators[index].actsOnObjects
                    counters[index].count(object.size, created: created, today: today, yesterday: yesterday)
                }
                if !covered { unmatched.add(object.size) }
            }
        }
        return LifecyclePlan(
            archive: store.location, policy: options.policySource, today: today, storageClasses: options.storageClasses,
            transitionMinimumObjectSize: options.transitionMinimumObjectSize, ageBasis: options.ageBasis,
            rules: counters.map(\.plan), scanned: scanned, unmatched: unmatched, undated: undated, costs: costs?.finish())
    }

    /// Deletes every object past its expiry under an enabled rule, `deleteBatchSize` keys at a time.
    /// Transitions are not acted on (a local folder has no storage classes; S3 moves objects itself).
    /// - Parameters:
    ///   - dryRun: count and report, delete nothing.
    ///   - onExpired: called for each expired object (with the ID of the rule that expires it) before it
    ///     is deleted, or instead of deleting it in a dry run.
    /// - Throws: `LifecycleEnforcementError` when the store cannot delete, saying how much was deleted first.
    public func enforce(
        dryRun: Bool, onExpired: (_ object: StoredObject, _ ruleID: String) -> Void = { _, _ in }
    ) async throws -> LifecycleEnforcement {
        let expiring = evaluators.indices.filter { evaluators[$0].enabled && evaluators[$0].hasExpiration }
        var perRule = Array(repeating: ObjectTally(), count: evaluators.count)
        var expired = ObjectTally()
        var deleted = ObjectTally()
        var scanned = ObjectTally()
        var batch: [String] = []
        var batchTally = ObjectTally()
        batch.reserveCapacity(options.deleteBatchSize)

        func flush() async throws {
            guard !batch.isEmpty else { return }
            do {
                try await store.delete(batch)
            } catch {
                throw LifecycleEnforcementError(deletedBefore: deleted, batch: batch.count, underlying: error)
            }
            deleted.objects += batchTally.objects
            deleted.bytes += batchTally.bytes
            batch.removeAll(keepingCapacity: true)
            batchTally = ObjectTally()
        }

        var held: [StoredObject] = []
        var heldFolder = ""
        func add(_ object: StoredObject) async throws {
            batch.append(object.key)
            batchTally.add(object.size)
            if batch.count >= options.deleteBatchSize { try await flush() }
        }
        /// The batched objects held for one folder: indexes first, then the data objects.
        func release() async throws {
            for object in held where BatchedObjectName(indexKey: object.key) != nil { try await add(object) }
            // One deletion request need not keep its order: the indexes are gone before their objects are asked for.
            if held.contains(where: { BatchedObjectName(indexKey: $0.key) == nil }) { try await flush() }
            for object in held where BatchedObjectName(indexKey: object.key) == nil { try await add(object) }
            held.removeAll()
        }

        if !expiring.isEmpty {
            for try await page in store.list(prefix: "") {
                try Task.checkCancellation()
                // The manifest declares the archive's layout for as long as the archive lives.
                for object in page where object.key != LayoutManifest.key {
                    scanned.add(object.size)
                    guard let created = creationSeconds(of: object),
                        let index = expiring.first(where: {
                            evaluators[$0].matches(key: object.key, size: object.size) && evaluators[$0].isExpired(created: created, on: today)
                        })
                    else { continue }
                    perRule[index].add(object.size)
                    expired.add(object.size)
                    onExpired(object, evaluators[index].id)
                    if !dryRun {
                        if BatchedObjectName.isBatched(object.key) {
                            // A batched object goes after its index (both are in this folder, the index listed last):
                            // an index never names an object that is gone.
                            let folder = FileSystem.parent(of: object.key)
                            if folder != heldFolder { try await release() }
                            heldFolder = folder
                            held.append(object)
                            continue
                        }
                        try await add(object)
                    }
                }
            }
            try await release()
            try await flush()
        }
        return LifecycleEnforcement(
            archive: store.location, policy: options.policySource, today: today, dryRun: dryRun,
            rules: expiring.map { LifecycleEnforcement.RuleCount(id: evaluators[$0].id, expired: perRule[$0]) },
            expired: expired, deleted: deleted, scanned: scanned)
    }
}

/// The store refused a deletion part-way through `enforce`.
public struct LifecycleEnforcementError: Error, Sendable, CustomStringConvertible {
    /// What was deleted before the failure.
    public let deletedBefore: ObjectTally
    /// How many keys the failed batch held.
    public let batch: Int
    /// What the store said.
    public let underlying: any Error

    public var description: String {
        "deleted \(deletedBefore.objects) expired objects, then the archive refused to delete \(batch) more: \(underlying); "
            + "fix that and run `archiver lifecycle enforce` again (it picks up where it stopped)"
    }
}

/// The running counts of one rule during `plan()`.
private struct RuleCounters {
    let evaluator: LifecycleRuleEvaluator
    var matched = ObjectTally()
    var tiers: [ObjectTally]
    var moves: [ObjectTally]
    var held = ObjectTally()
    var due = ObjectTally()
    var dueToday = ObjectTally()

    init(evaluator: LifecycleRuleEvaluator) {
        self.evaluator = evaluator
        tiers = Array(repeating: ObjectTally(), count: evaluator.transitions.count + 1)
        moves = Array(repeating: ObjectTally(), count: evaluator.transitions.count)
    }

    mutating func count(_ size: Int64, created: Int64, today: LifecycleDay, yesterday: LifecycleDay) {
        matched.add(size)
        let now = evaluator.standing(created: created, size: size, on: today)
        if now.expired {
            due.add(size)
            if !evaluator.isExpired(created: created, on: yesterday) { dueToday.add(size) }
            return
        }
        tiers[now.tier + 1].add(size)
        if now.heldBySize { held.add(size) }
        if now.tier >= 0, evaluator.standing(created: created, size: size, on: yesterday).tier != now.tier {
            moves[now.tier].add(size)
        }
    }

    var plan: LifecycleRulePlan {
        let transitions = evaluator.transitions
        var tierList = [LifecycleTier(storageClass: .standard, fromDays: transitions.first?.date == nil ? 0 : nil, fromDate: nil, objects: tiers[0])]
        for (index, transition) in transitions.enumerated() {
            tierList.append(LifecycleTier(storageClass: transition.storageClass, fromDays: transition.days, fromDate: transition.date, objects: tiers[index + 1]))
        }
        let moveList = transitions.enumerated().map {
            LifecycleMove(storageClass: $1.storageClass, days: $1.days, date: $1.date, today: moves[$0])
        }
        let expiry = evaluator.enabled && evaluator.hasExpiration
            ? LifecycleExpiry(days: evaluator.expirationDays, date: evaluator.expirationDate, due: due, dueToday: dueToday) : nil
        return LifecycleRulePlan(
            id: evaluator.id, enabled: evaluator.enabled, prefix: evaluator.prefix, matched: matched,
            tiers: evaluator.enabled ? tierList : [], movesToday: evaluator.enabled ? moveList : [], heldBySize: held,
            expiration: expiry)
    }
}
