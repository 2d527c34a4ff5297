/// A number of objects and their bytes.
public struct ObjectTally: Codable, Sendable, Equatable {
    /// How many objects.
    public var objects: Int
    /// Their total size in bytes.
    public var bytes: Int64

    public init(objects: Int = 0, bytes: Int64 = 0) {
        self.objects = objects
        self.bytes = bytes
    }

    /// Counts one object of `size` bytes.
    public mutating func add(_ size: Int64) {
        objects += 1
        bytes += size
    }

    /// No objects.
    public static let zero = ObjectTally()
}

/// What a lifecycle policy does to an archive on one day: for each rule, where its objects are by age,
/// what moves today, what is due to expire. Made by `LifecyclePlanner.plan()`.
public struct LifecyclePlan: Codable, Sendable, Equatable {
    /// The archive (`ArchiveStore.location`).
    public var archive: String
    /// Where the policy came from, when the caller said (a path, or the built-in default).
    public var policy: String?
    /// The day planned for (UTC).
    public var today: LifecycleDay
    /// Whether the store keeps storage classes. A local folder does not: moves are what S3 would do with
    /// the same objects, for information; only expiry acts.
    public var storageClasses: Bool
    /// Which small objects are held back from transitions.
    public var transitionMinimumObjectSize: TransitionMinimumObjectSize
    /// Where an object's age is counted from.
    public var ageBasis: LifecycleAgeBasis
    /// One entry per rule, in policy order (disabled rules included, with nothing counted).
    public var rules: [LifecycleRulePlan]
    /// Every object listed.
    public var scanned: ObjectTally
    /// Objects no enabled rule moves or expires.
    public var unmatched: ObjectTally
    /// Objects whose age cannot be known (not an archive name, and no modification time): never acted on.
    public var undated: ObjectTally
    /// What the archive's records cost in requests and transitions per month, per-record and batched.
    public var costs: LayoutCostComparison?
}

/// One rule's view of the archive. An object several rules apply to is counted under each of them.
public struct LifecycleRulePlan: Codable, Sendable, Equatable {
    /// The rule's ID, or `Rules[N]` when it has none.
    public var id: String
    /// False for a rule whose Status is Disabled: nothing is counted for it.
    public var enabled: Bool
    /// The key prefix the rule selects by ("" for all).
    public var prefix: String
    /// The objects the rule applies to (prefix and size filter), expired ones included.
    public var matched: ObjectTally
    /// Where the rule keeps its objects today, by age: STANDARD, then each transition's class, in order.
    /// Objects past expiry are not here; they are in `expiration.due`.
    public var tiers: [LifecycleTier]
    /// For each transition, the objects whose move to its class falls today.
    public var movesToday: [LifecycleMove]
    /// Objects old enough for a transition but too small for S3 to move (see `TransitionMinimumObjectSize`):
    /// counted in the tier they stay in.
    public var heldBySize: ObjectTally
    /// The rule's expiry, when it has one by `Days` or `Date`.
    public var expiration: LifecycleExpiry?
}

/// The objects a rule keeps in one storage class today.
public struct LifecycleTier: Codable, Sendable, Equatable {
    /// Where S3 keeps these objects.
    public var storageClass: StorageClass
    /// The age (days) from which objects belong here, for a transition by `Days` (0 for STANDARD).
    public var fromDays: Int?
    /// The day from which objects belong here, for a transition by `Date`.
    public var fromDate: LifecycleDay?
    /// The objects in this class today.
    public var objects: ObjectTally
}

/// The objects whose transition to a storage class falls today: yesterday their class was an earlier one,
/// today it is this one.
public struct LifecycleMove: Codable, Sendable, Equatable {
    /// The class objects move into.
    public var storageClass: StorageClass
    /// The transition's `Days`, when it is by age.
    public var days: Int?
    /// The transition's `Date`, when it is on a date.
    public var date: LifecycleDay?
    /// The objects whose move falls today.
    public var today: ObjectTally
}

/// The objects a rule's expiration applies to today.
public struct LifecycleExpiry: Codable, Sendable, Equatable {
    /// The expiration's `Days`, when it is by age.
    public var days: Int?
    /// The expiration's `Date`, when it is on a date.
    public var date: LifecycleDay?
    /// Every object past expiry: what `enforce` deletes (and what S3 deletes, in its own time).
    public var due: ObjectTally
    /// Those whose expiry falls today (the rest were due before).
    public var dueToday: ObjectTally
}

/// What `LifecyclePlanner.enforce(dryRun:)` did, or would do.
public struct LifecycleEnforcement: Codable, Sendable, Equatable {
    /// Expired objects found under one rule.
    public struct RuleCount: Codable, Sendable, Equatable {
        /// The rule's ID, or `Rules[N]` when it has none.
        public var id: String
        /// The expired objects the rule claims.
        public var expired: ObjectTally

        public init(id: String, expired: ObjectTally) {
            self.id = id
            self.expired = expired
        }
    }

    /// The archive (`ArchiveStore.location`).
    public var archive: String
    /// Where the policy came from, when the caller said.
    public var policy: String?
    /// The day enforced for (UTC).
    public var today: LifecycleDay
    /// True when nothing was deleted, only counted.
    public var dryRun: Bool
    /// Per rule with an expiration, the expired objects it claims (an object several rules expire is
    /// claimed by the first of them, in policy order).
    public var rules: [RuleCount]
    /// Every expired object found.
    public var expired: ObjectTally
    /// The objects deleted (none in a dry run).
    public var deleted: ObjectTally
    /// Every object listed.
    public var scanned: ObjectTally
}

/// Where an object's age is counted from.
public enum LifecycleAgeBasis: String, Codable, Sendable, CaseIterable {
    /// The deletion time in the archive key (`2024/01/15/….103000.….json.gz`), or the object's modification
    /// time for keys that are not archive names. For local folders, whose files' times say when they were
    /// copied rather than when the record was deleted.
    case deletionTime = "deletion-time"
    /// The object's modification time, which for S3 is its creation time: what S3 lifecycle itself counts
    /// from. Keys without one fall back to the deletion time in the key.
    case lastModified = "last-modified"
}
