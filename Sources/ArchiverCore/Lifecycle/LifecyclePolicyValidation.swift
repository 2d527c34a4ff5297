extension LifecyclePolicy {
    /// The most rules S3 takes in one configuration.
    public static let maximumRules = 1000

    /// Checks the rules S3 enforces when the policy is put on a bucket, and the ones archiver needs to plan
    /// it (no tag filters). The first problem found is thrown.
    /// - Throws: `LifecyclePolicyError` (kind `.invalid`), naming the field, what is wrong, and what to do.
    public func validate() throws {
        if rules.isEmpty {
            throw LifecyclePolicyError.invalid(
                at: "Rules", "the policy has no rules", fix: "add a rule; lifecycle/default.json is a complete example")
        }
        if rules.count > Self.maximumRules {
            throw LifecyclePolicyError.invalid(
                at: "Rules", "the policy has \(rules.count) rules; S3 takes at most \(Self.maximumRules)",
                fix: "merge rules that share a prefix")
        }
        var seen: [String: Int] = [:]
        for (index, rule) in rules.enumerated() {
            let location = "Rules[\(index)]"
            if let id = rule.id {
                if id.count > 255 {
                    throw LifecyclePolicyError.invalid(at: location + ".ID", "the ID is \(id.count) characters long; S3 takes at most 255", fix: "shorten it")
                }
                if let first = seen[id] {
                    throw LifecyclePolicyError.invalid(
                        at: location + ".ID", "Rules[\(first)] has the same ID \"\(id)\"", fix: "give each rule its own ID")
                }
                seen[id] = index
            }
            try rule.validate(at: location)
        }
    }
}

extension LifecycleRule {
    func validate(at location: String) throws {
        try validateSelection(at: location)
        let hasAction = !(transitions ?? []).isEmpty || expiration != nil || !(noncurrentVersionTransitions ?? []).isEmpty
            || noncurrentVersionExpiration != nil || abortIncompleteMultipartUpload != nil
        if !hasAction {
            throw LifecyclePolicyError.invalid(
                at: location, "the rule does nothing: it has no Transitions, Expiration or AbortIncompleteMultipartUpload",
                fix: "add an action, or remove the rule")
        }
        let lastTransition = try validateTransitions(at: location)
        try validateExpiration(at: location, after: lastTransition)
        try validateVersionsAndUploads(at: location)
    }

    /// `Filter` or the legacy `Prefix`, and only what archiver can evaluate.
    private func validateSelection(at location: String) throws {
        if filter != nil && prefix != nil {
            throw LifecyclePolicyError.invalid(
                at: location, "the rule has both Filter and the legacy Prefix", fix: "keep only Filter, with the prefix in Filter.Prefix")
        }
        if let prefix {
            try validatePrefix(prefix, at: location + ".Prefix")
            return
        }
        guard let filter else {
            throw LifecyclePolicyError.invalid(
                at: location, "the rule names no objects: it has neither Filter nor Prefix",
                fix: "add \"Filter\": {\"Prefix\": \"\"} to apply it to every object, or a prefix such as \"2024/\"")
        }
        let location = location + ".Filter"
        let conditions = [
            filter.prefix.map { _ in "Prefix" }, filter.tag.map { _ in "Tag" },
            filter.objectSizeGreaterThan.map { _ in "ObjectSizeGreaterThan" },
            filter.objectSizeLessThan.map { _ in "ObjectSizeLessThan" }, filter.and.map { _ in "And" },
        ].compactMap { $0 }
        if conditions.count > 1 {
            throw LifecyclePolicyError.invalid(
                at: location, "the filter has \(conditions.count) conditions (\(conditions.joined(separator: ", "))); S3 takes one",
                fix: "put several conditions inside \"And\": {…}")
        }
        let tagAdvice = "archiver cannot see object tags, so it cannot plan or enforce a rule filtered by tag; "
            + "filter by Prefix (or object size) instead, or put the policy on the bucket with the aws CLI and leave it to S3"
        if filter.tag != nil {
            throw LifecyclePolicyError.invalid(at: location + ".Tag", "filtering by tag is not supported", fix: tagAdvice)
        }
        if let prefix = filter.prefix { try validatePrefix(prefix, at: location + ".Prefix") }
        try validateSizes(greaterThan: filter.objectSizeGreaterThan, lessThan: filter.objectSizeLessThan, at: location)
        if let and = filter.and {
            if !(and.tags ?? []).isEmpty {
                throw LifecyclePolicyError.invalid(at: location + ".And.Tags", "filtering by tag is not supported", fix: tagAdvice)
            }
            if let prefix = and.prefix { try validatePrefix(prefix, at: location + ".And.Prefix") }
            try validateSizes(greaterThan: and.objectSizeGreaterThan, lessThan: and.objectSizeLessThan, at: location + ".And")
        }
    }

    private func validatePrefix(_ prefix: String, at location: String) throws {
        if prefix.hasPrefix("/") {
            throw LifecyclePolicyError.invalid(
                at: location, "the prefix \"\(prefix)\" starts with '/', and no S3 key does, so the rule would match nothing",
                fix: "drop the leading '/' (write \"\(prefix.drop { $0 == "/" })\")")
        }
        if prefix.utf8.count > 1024 {
            throw LifecyclePolicyError.invalid(at: location, "the prefix is longer than an S3 key can be (1024 bytes)", fix: "shorten it")
        }
    }

    private func validateSizes(greaterThan: Int64?, lessThan: Int64?, at location: String) throws {
        if let greaterThan, greaterThan < 0 {
            throw LifecyclePolicyError.invalid(
                at: location + ".ObjectSizeGreaterThan", "the size is \(greaterThan)", fix: "give a size in bytes, 0 or more")
        }
        if let lessThan, lessThan <= 0 {
            throw LifecyclePolicyError.invalid(
                at: location + ".ObjectSizeLessThan", "the size is \(lessThan), and no object is smaller", fix: "give a size in bytes, 1 or more")
        }
        if let greaterThan, let lessThan, greaterThan >= lessThan {
            throw LifecyclePolicyError.invalid(
                at: location, "no object is larger than \(greaterThan) bytes and smaller than \(lessThan) bytes",
                fix: "make ObjectSizeGreaterThan less than ObjectSizeLessThan")
        }
    }

    /// Returns the last transition (by `Days` or `Date`), so that expiration can be checked to come after it.
    private func validateTransitions(at location: String) throws -> LifecycleTransition? {
        let list = transitions ?? []
        var previous: LifecycleTransition?
        for (index, transition) in list.enumerated() {
            let location = location + ".Transitions[\(index)]"
            let target = transition.storageClass.rawValue
            if let error = StorageClass.notATarget(transition.storageClass, at: location + ".StorageClass") { throw error }
            switch (transition.days, transition.date) {
            case (.some, .some):
                throw LifecyclePolicyError.invalid(at: location, "the transition has both Days and Date", fix: "keep one of them")
            case (nil, nil):
                throw LifecyclePolicyError.invalid(
                    at: location, "the transition to \(target) has neither Days nor Date",
                    fix: "add \"Days\": N (days after the object is created) or a \"Date\"")
            case (let days?, nil):
                if days < 0 {
                    throw LifecyclePolicyError.invalid(
                        at: location + ".Days", "Days is \(days)", fix: "give the days after the object is created: 0 or more")
                }
                if transition.storageClass.isInfrequentAccess && days < 30 {
                    throw LifecyclePolicyError.invalid(
                        at: location + ".Days", "Days is \(days) for \(target); S3 moves nothing into STANDARD_IA or ONEZONE_IA before 30 days",
                        fix: "use Days 30 or more, or go straight to GLACIER_IR, GLACIER or DEEP_ARCHIVE")
                }
            case (nil, let date?):
                if !date.isMidnightUTC {
                    throw LifecyclePolicyError.invalid(
                        at: location + ".Date", "\"\(date.text)\" is not midnight UTC, and S3 acts on dates only at midnight UTC",
                        fix: "write \"\(date.day)T00:00:00Z\"")
                }
            }
            if let previous {
                try validateOrder(previous: previous, index: index - 1, next: transition, at: location)
            }
            previous = transition
        }
        return previous
    }

    private func validateOrder(previous: LifecycleTransition, index: Int, next: LifecycleTransition, at location: String) throws {
        let earlier = "Transitions[\(index)]"
        switch (previous.days, next.days, previous.date, next.date) {
        case (let before?, let after?, _, _):
            if after <= before {
                throw LifecyclePolicyError.invalid(
                    at: location + ".Days", "Days \(after) is not after \(earlier).Days \(before)",
                    fix: "list transitions in the order they happen, each with more Days than the one before")
            }
            if previous.storageClass.isInfrequentAccess && after - before < 30 {
                throw LifecyclePolicyError.invalid(
                    at: location + ".Days",
                    "Days \(after) is only \(after - before) days after the move to \(previous.storageClass.rawValue); S3 keeps objects there at least 30 days",
                    fix: "use Days \(before + 30) or more")
            }
        case (_, _, let before?, let after?):
            if after.epochSeconds <= before.epochSeconds {
                throw LifecyclePolicyError.invalid(
                    at: location + ".Date", "\(after.text) is not after \(earlier).Date \(before.text)",
                    fix: "list transitions in the order they happen, each on a later date than the one before")
            }
        default:
            throw LifecyclePolicyError.invalid(
                at: location, "the rule mixes transitions by Days and by Date", fix: "use Days for every transition of a rule, or Date for every one")
        }
        if next.storageClass <= previous.storageClass {
            let order = StorageClass.allCases.map(\.rawValue).joined(separator: " → ")
            throw LifecyclePolicyError.invalid(
                at: location + ".StorageClass",
                "the rule moves objects from \(previous.storageClass.rawValue) to \(next.storageClass.rawValue), and S3 moves objects only one way: \(order)",
                fix: "order the transitions along that line, each to a class further along than the one before")
        }
    }

    private func validateExpiration(at location: String, after last: LifecycleTransition?) throws {
        guard let expiration else { return }
        let location = location + ".Expiration"
        let given = [expiration.days.map { _ in "Days" }, expiration.date.map { _ in "Date" },
                     expiration.expiredObjectDeleteMarker.map { _ in "ExpiredObjectDeleteMarker" }].compactMap { $0 }
        if given.count != 1 {
            throw LifecyclePolicyError.invalid(
                at: location, given.isEmpty ? "the expiration says nothing" : "the expiration has \(given.joined(separator: " and "))",
                fix: "give exactly one of Days (days after the object is created), Date, or ExpiredObjectDeleteMarker")
        }
        if let days = expiration.days {
            if days < 1 {
                throw LifecyclePolicyError.invalid(
                    at: location + ".Days", "Days is \(days)", fix: "give the days after the object is created: 1 or more")
            }
            if let lastDays = last?.days, days <= lastDays {
                throw LifecyclePolicyError.invalid(
                    at: location + ".Days", "objects expire at \(days) days, not after their last move (to \(last!.storageClass.rawValue) at \(lastDays) days)",
                    fix: "expire later than \(lastDays) days, or drop the transitions that would never happen")
            }
        }
        if let date = expiration.date {
            if !date.isMidnightUTC {
                throw LifecyclePolicyError.invalid(
                    at: location + ".Date", "\"\(date.text)\" is not midnight UTC, and S3 acts on dates only at midnight UTC",
                    fix: "write \"\(date.day)T00:00:00Z\"")
            }
            if let lastDate = last?.date, date.epochSeconds <= lastDate.epochSeconds {
                throw LifecyclePolicyError.invalid(
                    at: location + ".Date", "objects expire on \(date.text), not after their last move (on \(lastDate.text))",
                    fix: "expire after the last transition, or drop the transitions that would never happen")
            }
        }
    }

    private func validateVersionsAndUploads(at location: String) throws {
        for (index, transition) in (noncurrentVersionTransitions ?? []).enumerated() {
            let location = location + ".NoncurrentVersionTransitions[\(index)]"
            guard let days = transition.noncurrentDays, days >= 0 else {
                throw LifecyclePolicyError.invalid(
                    at: location + ".NoncurrentDays", "NoncurrentDays is missing or negative", fix: "give the days after a version stops being current: 0 or more")
            }
            guard let storageClass = transition.storageClass else {
                throw LifecyclePolicyError.invalid(at: location, "the transition names no StorageClass", fix: "add \"StorageClass\", e.g. \"GLACIER\"")
            }
            if let error = StorageClass.notATarget(storageClass, at: location + ".StorageClass") { throw error }
            if storageClass.isInfrequentAccess && days < 30 {
                throw LifecyclePolicyError.invalid(
                    at: location + ".NoncurrentDays", "NoncurrentDays is \(days) for \(storageClass.rawValue); S3 moves nothing there before 30 days",
                    fix: "use 30 or more")
            }
        }
        if let expiration = noncurrentVersionExpiration, (expiration.noncurrentDays ?? 0) < 1 {
            throw LifecyclePolicyError.invalid(
                at: location + ".NoncurrentVersionExpiration.NoncurrentDays", "NoncurrentDays is missing or less than 1",
                fix: "give the days after a version stops being current: 1 or more")
        }
        if let abort = abortIncompleteMultipartUpload, (abort.daysAfterInitiation ?? 0) < 1 {
            throw LifecyclePolicyError.invalid(
                at: location + ".AbortIncompleteMultipartUpload.DaysAfterInitiation", "DaysAfterInitiation is missing or less than 1",
                fix: "give the days after an upload begins: 1 or more (7 is usual)")
        }
    }
}
