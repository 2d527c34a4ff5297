import JSONToolkit

/// What `restore` asks of each record: whether its subject was erased (and not lifted). A record of an erased
/// subject found in a copy of the archive is refused, with the reason.
public struct SuppressionCheck: Sendable {
    let rules: RuleSet
    let erasures: ErasureStore

    /// Nil when no rule names a subject (or no key is given): nothing to check.
    public init?(rules: RuleSet, erasures: ErasureStore) {
        guard rules.subjectKey != nil else { return nil }
        self.rules = rules
        self.erasures = erasures
    }

    /// Why `item` may not be restored, or nil.
    public func reason(_ item: RestoreItem) -> String? {
        let keys: [(String, JSONValue)] = item.keys.map { key in
            let tag = switch key.type {
            case .string: "S"
            case .number: "N"
            case .binary: "B"
            }
            return (key.name, .object([(tag, .string(key.value))]))
        }
        let image = RecordImage(keys: keys, oldImage: item.item.dynamoJSON.objectMembers ?? [])
        guard let hmac = rules.subjectHMAC(image: image) else { return nil }
        guard (try? erasures.isSuppressed(hmac)) ?? true else { return nil }
        return "refused: the record's subject was erased (its suppression stands; `archiver erase lift --subject …` lifts it, recorded)"
    }
}

extension RuleSet {
    /// The HMAC of the subject of a record read back from the archive: the first rule naming a subject whose
    /// conditions hold and whose template fills (the table and kind are not known here).
    public func subjectHMAC(image: RecordImage) -> String? {
        guard let subjectKey else { return nil }
        for rule in rules {
            guard let template = rule.subject, rule.conditions.allSatisfy({ $0.holds(for: image) }),
                  case .success(let subject) = template.fill(image), SubjectCheck.problem(subject) == nil else { continue }
            return subjectKey.hmac(subject)
        }
        return nil
    }
}
