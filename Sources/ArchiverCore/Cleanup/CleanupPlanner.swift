import Foundation

/// Multipart uploads to abort under a root.
public struct UploadRule: Sendable, Equatable {
    /// An upload started longer ago than this is stale.
    public var olderThan: TimeInterval
    /// Abort stale uploads that hold parts too; without it they are reported for review and kept.
    public var abortPartial: Bool

    public init(olderThan: TimeInterval, abortPartial: Bool = false) {
        self.olderThan = olderThan
        self.abortPartial = abortPartial
    }
}

/// Objects to delete under a root when the item that owns them is gone.
public struct OrphanRule: Sendable {
    /// Where the owner's id is in a key.
    public var pattern: OwnerKeyPattern
    /// Where owners are looked up.
    public var owners: any OwnerLookup
    /// Only objects last written longer ago than this are judged (an upload in progress has no owner row yet).
    public var olderThan: TimeInterval

    public init(pattern: OwnerKeyPattern, owners: any OwnerLookup, olderThan: TimeInterval) {
        self.pattern = pattern
        self.owners = owners
        self.olderThan = olderThan
    }
}

/// One root and what cleanup does there.
public struct CleanupTarget: Sendable {
    public var root: any CleanupRoot
    /// Nil: multipart uploads are left alone.
    public var uploads: UploadRule?
    /// Nil: no object is judged an orphan.
    public var orphans: OrphanRule?

    public init(root: any CleanupRoot, uploads: UploadRule?, orphans: OrphanRule?) {
        self.root = root
        self.uploads = uploads
        self.orphans = orphans
    }
}

/// Turns what a root holds into plans, a page at a time. It only reads: it lists, looks owners up and counts parts.
public struct CleanupPlanner: Sendable {
    /// The moment ages are measured from.
    public var now: Date
    /// How many owner lookups (or part listings) are in flight at once.
    public var concurrency: Int

    public init(now: Date, concurrency: Int = 16) {
        self.now = now
        self.concurrency = max(1, concurrency)
    }

    /// The plan for one page of objects: each object old enough, whose key holds an owner id, whose owner does not
    /// exist, is deleted. Every other object is counted with the reason it stays. Each distinct owner id is looked
    /// up once; a lookup that fails keeps the objects of that id and counts an error each (never delete on doubt).
    public func plan(objects page: [CleanupObject], under root: String, rule: OrphanRule) async -> CleanupPlan {
        var plan = CleanupPlan(place: root)
        plan.counts.objectsExamined = page.count
        var candidates: [(object: CleanupObject, id: String)] = []
        for object in page {
            guard let modified = object.lastModified, now.timeIntervalSince(modified) >= rule.olderThan else {
                plan.counts.objectsTooRecent += 1
                continue
            }
            guard let id = rule.pattern.ownerID(in: object.key) else {
                plan.counts.objectsUnmatched += 1
                continue
            }
            candidates.append((object, id))
        }
        var ids: [String] = []
        var seen: Set<String> = []
        for candidate in candidates where seen.insert(candidate.id).inserted { ids.append(candidate.id) }
        let answers = await lookUp(ids, in: rule.owners)
        plan.counts.itemsChecked = ids.count
        for (object, id) in candidates {
            switch answers[id] ?? .failure(NoAnswer()) {
            case .success(true):
                plan.counts.objectsOwned += 1
            case .success(false):
                plan.actions.append(.deleteObject(object, reason: "no \(rule.pattern.idName) '\(id)' in \(rule.owners.description)"))
            case .failure(let error):
                plan.counts.objectsKeptOnLookupError += 1
                plan.counts.errors += 1
                plan.problems.append(
                    CleanupProblem(
                        root: root, subject: object.key,
                        error: "kept: could not tell whether \(rule.pattern.idName) '\(id)' exists in \(rule.owners.description): \(error)"))
            }
        }
        return plan
    }

    /// The plan for one page of multipart uploads: each started longer ago than the threshold is aborted when it
    /// holds no parts (or `abortPartial`), and reported for review otherwise.
    public func plan(uploads page: [CleanupUpload], in root: any CleanupRoot, rule: UploadRule) async -> CleanupPlan {
        var plan = CleanupPlan(place: root.description)
        let stale = page.filter { upload in
            guard let started = upload.initiated, now.timeIntervalSince(started) >= rule.olderThan else {
                plan.counts.uploadsTooRecent += 1
                return false
            }
            return true
        }
        let parts = await withTaskGroup(of: (Int, Result<CleanupUploadParts?, any Error>).self) { group in
            var results = [Result<CleanupUploadParts?, any Error>?](repeating: nil, count: stale.count)
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask { (index, await Result(awaiting: { try await root.parts(of: stale[index]) })) }
            }
            while next < stale.count && next < concurrency { add() }
            while let (index, result) = await group.next() {
                results[index] = result
                if next < stale.count { add() }
            }
            return results
        }
        for (upload, result) in zip(stale, parts) {
            switch result ?? .failure(NoAnswer()) {
            case .success(let held?):
                plan.actions.append(held.count == 0 || rule.abortPartial ? .abortUpload(upload, parts: held) : .keepUpload(upload, parts: held))
            case .success(nil):
                continue  // completed or aborted since it was listed
            case .failure(let error):
                plan.counts.errors += 1
                plan.problems.append(
                    CleanupProblem(root: root.description, subject: "upload \(upload.uploadID) of \(upload.key)", error: "kept: could not list its parts: \(error)"))
            }
        }
        return plan
    }

    /// Looks up every id, `concurrency` at a time.
    private func lookUp(_ ids: [String], in owners: any OwnerLookup) async -> [String: Result<Bool, any Error>] {
        await withTaskGroup(of: (String, Result<Bool, any Error>).self) { group in
            var answers: [String: Result<Bool, any Error>] = [:]
            var next = 0
            func add() {
                let id = ids[next]
                next += 1
                group.addTask { (id, await Result(awaiting: { try await owners.ownerExists(id) })) }
            }
            while next < ids.count && next < concurrency { add() }
            while let (id, answer) = await group.next() {
                answers[id] = answer
                if next < ids.count { add() }
            }
            return answers
        }
    }
}

extension Result where Failure == any Error {
    /// The result of an async throwing call.
    init(awaiting body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}

/// A task that gave no answer (it cannot happen: every task of a group answers).
struct NoAnswer: Error, CustomStringConvertible {
    var description: String { "no answer" }
}
