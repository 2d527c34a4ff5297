import Foundation

/// How `cleanup` finds, in an object's key, the id of the item that owns the object.
///
/// The key is the object's key below the cleanup root (`2024-01-15/abc.mp4` under `s3://bucket/uploads/`).
/// Two forms:
/// - a **template**, matched against the whole key: literal text, `*` (any text within one path segment),
///   `**` (any text, across segments) and exactly one `{name}` hole, the owner's id (one or more characters, no
///   `/`; the shortest that lets the whole key match, so `{sessionId}.*` takes `abc` from `abc.v2.mp4`). The name
///   is for people only. Example: `*/{sessionId}.*`.
/// - a **regular expression** (ICU syntax, as NSRegularExpression reads it) with exactly one capture group, the
///   owner's id, searched anywhere in the key unless anchored with `^`/`$`. Example (the seed's):
///   `uploads/\d{4}-\d{2}-\d{2}/([^.]+)\.`.
///
/// A key that does not match, or whose id comes out empty, has no owner id: cleanup never deletes it.
public struct OwnerKeyPattern: Sendable, CustomStringConvertible, Equatable {
    /// Which of the two forms.
    public enum Form: String, Sendable, Equatable {
        case template, regex
    }

    public let form: Form
    /// The pattern as written.
    public let text: String
    /// The name of the template's hole (`sessionId`); `id` for a regular expression.
    public let idName: String
    private let expression: Expression

    public var description: String { form == .template ? text : "regex:\(text)" }

    public static func == (a: OwnerKeyPattern, b: OwnerKeyPattern) -> Bool { a.form == b.form && a.text == b.text }

    /// Reads a template.
    /// - Throws: `OwnerKeyPatternError` saying what is wrong and what to write.
    public init(template: String) throws {
        form = .template
        text = template
        var pattern = "^"
        var holes: [String] = []
        var literal = ""
        func flush() {
            if !literal.isEmpty { pattern += NSRegularExpression.escapedPattern(for: literal) }
            literal = ""
        }
        guard !template.isEmpty else { throw OwnerKeyPatternError("the key template is empty; write e.g. */{sessionId}.*") }
        if template.hasPrefix("/") {
            throw OwnerKeyPatternError("the key template '\(template)' starts with '/'; keys are relative to the cleanup root (write e.g. */{sessionId}.*)")
        }
        var index = template.startIndex
        while index < template.endIndex {
            let character = template[index]
            switch character {
            case "*":
                flush()
                let next = template.index(after: index)
                if next < template.endIndex, template[next] == "*" {
                    pattern += ".*"
                    index = template.index(after: next)
                    continue
                }
                pattern += "[^/]*"
            case "{":
                flush()
                guard let close = template[index...].firstIndex(of: "}") else {
                    throw OwnerKeyPatternError("the key template '\(template)' opens a '{' it never closes")
                }
                let name = String(template[template.index(after: index)..<close])
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw OwnerKeyPatternError("'{\(name)}' in the key template '\(template)' is not a hole; a hole is {name} with letters, digits, _ or -")
                }
                holes.append(name)
                pattern += "([^/]+?)"
                index = template.index(after: close)
                continue
            case "}":
                throw OwnerKeyPatternError("the key template '\(template)' closes a '}' it never opened")
            default:
                literal.append(character)
            }
            index = template.index(after: index)
        }
        flush()
        guard holes.count == 1 else {
            if holes.isEmpty {
                throw OwnerKeyPatternError("the key template '\(template)' has no {name} hole for the owner's id; write e.g. */{sessionId}.*")
            }
            let example = Self.exampleWithOneHole(template, holes: holes)
            throw OwnerKeyPatternError(
                "the key template '\(template)' has \(holes.count) holes (\(holes.map { "{\($0)}" }.joined(separator: ", "))); "
                    + "name only the owner's id and write * for the other parts, e.g. \(example)")
        }
        idName = holes[0]
        expression = try Expression(pattern + "$", written: template)
    }

    /// Reads a regular expression with one capture group.
    /// - Throws: `OwnerKeyPatternError` when it does not compile or does not have exactly one group.
    public init(regex: String) throws {
        form = .regex
        text = regex
        idName = "id"
        guard !regex.isEmpty else { throw OwnerKeyPatternError("the key regex is empty; write e.g. ^[^/]+/([^.]+)\\.") }
        expression = try Expression(regex, written: regex)
        guard expression.groups == 1 else {
            throw OwnerKeyPatternError(
                "the key regex '\(regex)' has \(expression.groups) capture groups; it needs exactly one, around the owner's id "
                    + "(write (?:…) for groups that only group)")
        }
    }

    /// The owner's id in `key`, or nil when the key does not match or the id is empty.
    public func ownerID(in key: String) -> String? {
        expression.firstCapture(in: key)
    }

    /// The template with its first hole kept and the others written as `*`, for the error message.
    private static func exampleWithOneHole(_ template: String, holes: [String]) -> String {
        var result = template
        for hole in holes.dropFirst() { result = result.replacingOccurrences(of: "{\(hole)}", with: "*") }
        return result
    }

    /// A compiled NSRegularExpression; it is immutable once made and safe to share between threads.
    private struct Expression: @unchecked Sendable {
        let regex: NSRegularExpression
        var groups: Int { regex.numberOfCaptureGroups }

        init(_ pattern: String, written: String) throws {
            do {
                regex = try NSRegularExpression(pattern: pattern)
            } catch {
                throw OwnerKeyPatternError("the key pattern '\(written)' is not a valid regular expression")
            }
        }

        func firstCapture(in key: String) -> String? {
            let whole = NSRange(key.startIndex..<key.endIndex, in: key)
            guard let match = regex.firstMatch(in: key, range: whole), match.numberOfRanges > 1,
                let range = Range(match.range(at: 1), in: key), !range.isEmpty
            else { return nil }
            return String(key[range])
        }
    }
}

/// A key pattern that cannot be used: what is wrong and what to write.
public struct OwnerKeyPatternError: Error, Sendable, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
