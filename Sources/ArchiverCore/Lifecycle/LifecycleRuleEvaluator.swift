/// One rule made ready to evaluate millions of objects quickly: prefixes resolved against the store's
/// keys, dates turned into day numbers.
struct LifecycleRuleEvaluator: Sendable {
    /// Where one object stands under a rule on one day.
    struct Standing: Equatable {
        /// -1 for STANDARD, else the index of the transition whose class the object is in.
        var tier: Int
        var expired: Bool
        /// Old enough for a later transition than `tier`, but too small for S3 to move.
        var heldBySize: Bool
    }

    struct Transition: Sendable {
        var storageClass: StorageClass
        var days: Int?
        var date: LifecycleDay?
    }

    let id: String
    let enabled: Bool
    let prefix: String
    /// The prefix against the store's own keys; nil when the rule can match none of them.
    let storePrefix: String?
    let sizeGreaterThan: Int64?
    let sizeLessThan: Int64?
    let hasSizeFilter: Bool
    let transitions: [Transition]
    let expirationDays: Int?
    let expirationDate: LifecycleDay?
    let minimumSize: TransitionMinimumObjectSize

    var hasExpiration: Bool { expirationDays != nil || expirationDate != nil }
    /// Whether the rule moves or expires current objects (a rule may act only on unfinished uploads or old versions).
    var actsOnObjects: Bool { hasExpiration || !transitions.isEmpty }

    /// - Parameter keyPrefix: what stands before the store's keys in the bucket (the policy's prefixes
    ///   are matched against whole bucket keys).
    init(rule: LifecycleRule, index: Int, keyPrefix: String, minimumSize: TransitionMinimumObjectSize) {
        id = rule.id ?? "Rules[\(index)]"
        enabled = rule.status == .enabled
        prefix = rule.effectivePrefix
        if prefix.hasPrefix(keyPrefix) {
            storePrefix = String(prefix.dropFirst(keyPrefix.count))
        } else if keyPrefix.hasPrefix(prefix) {
            storePrefix = ""
        } else {
            storePrefix = nil
        }
        sizeGreaterThan = rule.filter?.sizeGreaterThan
        sizeLessThan = rule.filter?.sizeLessThan
        hasSizeFilter = rule.filter?.hasSizeFilter ?? false
        transitions = (rule.transitions ?? []).map { Transition(storageClass: $0.storageClass, days: $0.days, date: $0.date?.day) }
        expirationDays = rule.expiration?.days
        expirationDate = rule.expiration?.date?.day
        self.minimumSize = minimumSize
    }

    /// Whether the rule applies to an object (prefix and size filter).
    func matches(key: String, size: Int64) -> Bool {
        guard enabled, let storePrefix, key.hasPrefix(storePrefix) else { return false }
        if let sizeGreaterThan, size <= sizeGreaterThan { return false }
        if let sizeLessThan, size >= sizeLessThan { return false }
        return true
    }

    /// The first day an action by `days` or on `date` is due for an object created at `created`.
    /// A date applies to objects that exist by then, and to later ones from the first midnight after creation.
    static func dueDay(days: Int?, date: LifecycleDay?, created: Int64) -> LifecycleDay {
        if let days { return LifecycleDay.due(days: days, afterCreation: created) }
        return max(date!, LifecycleDay.due(days: 0, afterCreation: created))
    }

    func isExpired(created: Int64, on day: LifecycleDay) -> Bool {
        hasExpiration && Self.dueDay(days: expirationDays, date: expirationDate, created: created) <= day
    }

    /// Where an object stands on `day`.
    func standing(created: Int64, size: Int64, on day: LifecycleDay) -> Standing {
        if isExpired(created: created, on: day) { return Standing(tier: -1, expired: true, heldBySize: false) }
        var tier = -1
        var lastDue = -1
        for (index, transition) in transitions.enumerated()
        where Self.dueDay(days: transition.days, date: transition.date, created: created) <= day {
            lastDue = index
            if hasSizeFilter || minimumSize.allows(size: size, into: transition.storageClass) { tier = index }
        }
        return Standing(tier: tier, expired: false, heldBySize: lastDue != tier)
    }
}
