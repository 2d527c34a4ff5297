/// Short aligned text of lifecycle plans and enforcement, for people.
public enum LifecycleText {
    /// `512 B`, `1.5 KiB`, `2.0 GiB`: `ByteSize`, the one byte format of every command.
    public static func bytes(_ count: Int64) -> String {
        ByteSize.text(count)
    }

    /// Rows as columns: the first two left-aligned, the rest right-aligned, two spaces apart.
    public static func table(_ rows: [[String]]) -> [String] {
        TextTable(alignments: [.left, .left, .right]).lines(rows)
    }

    static func row(_ rule: String, _ action: String, _ tally: ObjectTally) -> [String] {
        [rule, action, String(tally.objects), bytes(tally.bytes)]
    }
}

extension LifecyclePlan {
    /// The plan as a few lines of aligned text: a heading, then one row per rule and action.
    public var textLines: [String] {
        var lines = ["Lifecycle plan for \(archive) on \(today) (UTC)"]
        if let policy { lines.append("Policy: \(policy)") }
        if !storageClasses {
            lines.append("A local folder has no storage classes: moves are what S3 would do, for information; only expiry acts here.")
        }
        lines.append("")
        var rows = [["RULE", "ACTION", "OBJECTS", "BYTES"]]
        let small = "128 KB"
        let verb = storageClasses ? "moves" : "would move"
        for rule in rules {
            guard rule.enabled else {
                rows.append([rule.id, "disabled: not planned", "", ""])
                continue
            }
            for (index, tier) in rule.tiers.enumerated() {
                var when = ""
                if let days = tier.fromDays {
                    if index + 1 < rule.tiers.count, let next = rule.tiers[index + 1].fromDays {
                        when = "age \(days)–\(next - 1) days"
                    } else if let expiry = rule.expiration?.days {
                        when = "age \(days)–\(expiry - 1) days"
                    } else if rule.tiers.count == 1 && rule.expiration == nil {
                        when = "the rule moves and expires nothing"
                    } else {
                        when = "age \(days)+ days"
                    }
                } else if let date = tier.fromDate {
                    when = "from \(date)"
                }
                rows.append(LifecycleText.row(rule.id, "in \(tier.storageClass.rawValue)" + (when.isEmpty ? "" : " (\(when))"), tier.objects))
            }
            for move in rule.movesToday {
                rows.append(LifecycleText.row(rule.id, "\(verb) to \(move.storageClass.rawValue) today", move.today))
            }
            if rule.heldBySize.objects > 0 {
                rows.append(LifecycleText.row(rule.id, "kept in place: under \(small), S3 will not move them", rule.heldBySize))
            }
            if let expiry = rule.expiration {
                let when = expiry.days.map { "age \($0)+ days" } ?? expiry.date.map { "from \($0)" } ?? ""
                rows.append(LifecycleText.row(rule.id, "expire (\(when); \(expiry.dueToday.objects) due today)", expiry.due))
            }
        }
        if unmatched.objects > 0 { rows.append(LifecycleText.row("-", "no rule moves or expires them", unmatched)) }
        if undated.objects > 0 { rows.append(LifecycleText.row("-", "age unknown: left alone", undated)) }
        rows.append(LifecycleText.row("total", "listed", scanned))
        var notes: [String] = []
        if scanned.objects > 0 && unmatched == scanned && rules.contains(where: { $0.enabled && !$0.prefix.isEmpty }) {
            notes = ["", "No rule's prefix matched any object. The prefixes are whole bucket keys: for a folder copied from "
                + "s3://bucket/service/, say so with --key-prefix service/."]
        }
        return lines + LifecycleText.table(rows) + notes + (costs?.textLines ?? [])
    }
}

extension LifecycleEnforcement {
    /// The result as a few lines of aligned text.
    public var textLines: [String] {
        var lines = ["Lifecycle \(dryRun ? "dry run" : "enforcement") for \(archive) on \(today) (UTC)"]
        if let policy { lines.append("Policy: \(policy)") }
        lines.append("")
        var rows = [["RULE", "ACTION", "OBJECTS", "BYTES"]]
        for rule in rules {
            rows.append(LifecycleText.row(rule.id, dryRun ? "would delete (expired)" : "deleted (expired)", rule.expired))
        }
        if rules.isEmpty { rows.append(["-", "no enabled rule has an expiration", "", ""]) }
        rows.append(LifecycleText.row("total", "listed", scanned))
        return lines + LifecycleText.table(rows)
    }
}
