/// Text with holes filled from a deleted record: `users/{OldImage.userId.S}/` or
/// `{Keys.PK.S|strip-prefix:USER#|lower}`. A hole names a value (``AttributePath``, type S or N) and filters
/// applied in order: `strip-prefix:X`, `strip-suffix:X`, `lower`. `{{` and `}}` stand for `{` and `}`.
///
/// Filling fails, as a whole, when a value is missing, of another type, empty after its filters, or does not
/// start (end) with what `strip-prefix` (`strip-suffix`) removes: an empty hole never becomes an empty segment.
public struct Template: Sendable, Equatable, CustomStringConvertible {
    enum Part: Sendable, Equatable {
        case literal(String)
        case hole(AttributePath, [Filter])
    }

    enum Filter: Sendable, Equatable, CustomStringConvertible {
        case stripPrefix(String)
        case stripSuffix(String)
        case lower

        var description: String {
            switch self {
            case .stripPrefix(let text): "strip-prefix:\(text)"
            case .stripSuffix(let text): "strip-suffix:\(text)"
            case .lower: "lower"
            }
        }
    }

    let parts: [Part]
    /// As written.
    public let description: String

    /// Reads a template.
    /// - Throws: what is wrong, e.g. an unclosed `{`, an unknown filter, a path of type B.
    /// - Parameter subjectHoles: the template is one of `erasure.actions`, filled from a subject rather than a record:
    ///   its holes are `{subject}` (with filters, `{subject|lower}`), read as ``subjectPath``.
    public init(_ text: String, subjectHoles: Bool = false) throws(RuleTextError) {
        description = text
        var parts: [Part] = []
        var literal = ""
        var characters = Array(text)[...]
        while let character = characters.popFirst() {
            if character == "{" && characters.first == "{" {
                characters.removeFirst()
                literal.append("{")
            } else if character == "}" && characters.first == "}" {
                characters.removeFirst()
                literal.append("}")
            } else if character == "}" {
                throw RuleTextError("'\(text)' has a '}' that closes nothing (write '}}' for a '}')")
            } else if character == "{" {
                guard let end = characters.firstIndex(of: "}") else {
                    throw RuleTextError("'\(text)' has a '{' that is never closed")
                }
                let inside = String(characters[..<end])
                characters = characters[characters.index(after: end)...]
                if inside.contains("{") { throw RuleTextError("'\(text)': holes do not nest") }
                if !literal.isEmpty {
                    parts.append(.literal(literal))
                    literal = ""
                }
                parts.append(try Self.hole(inside, in: text, subjectHoles: subjectHoles))
            } else {
                literal.append(character)
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    /// Where an erasure action's `{subject}` hole reads the subject (``RecordImage/subject(_:)`` holds it there).
    public static let subjectPath = try! AttributePath("Keys.subject.S", types: [.s])

    private static func hole(_ inside: String, in text: String, subjectHoles: Bool) throws(RuleTextError) -> Part {
        let pieces = inside.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let path: AttributePath
        if subjectHoles {
            guard pieces[0].withoutOuterSpaces == "subject" else {
                throw RuleTextError("'\(text)': an erasure action is filled from the subject only; write {subject}, e.g. users/{subject}/")
            }
            path = subjectPath
        } else {
            do {
                path = try AttributePath(pieces[0].withoutOuterSpaces, types: [.s, .n])
            } catch {
                throw RuleTextError("'\(text)': \(error)")
            }
        }
        var filters: [Filter] = []
        for piece in pieces.dropFirst() {
            let name = piece.prefix { $0 != ":" }
            let argument = piece.dropFirst(name.count + 1)
            switch name.withoutOuterSpaces {
            case "strip-prefix" where piece.contains(":") && !argument.isEmpty: filters.append(.stripPrefix(String(argument)))
            case "strip-suffix" where piece.contains(":") && !argument.isEmpty: filters.append(.stripSuffix(String(argument)))
            case "lower" where !piece.contains(":"): filters.append(.lower)
            case "strip-prefix", "strip-suffix":
                throw RuleTextError("'\(text)': \(name) needs the text to remove, e.g. \(name):USER#")
            default:
                throw RuleTextError("'\(text)': unknown filter '\(piece)'; the filters are strip-prefix:X, strip-suffix:X and lower")
            }
        }
        return .hole(path, filters)
    }

    /// The paths the holes read.
    public var paths: [AttributePath] {
        parts.compactMap { if case .hole(let path, _) = $0 { path } else { nil } }
    }

    /// Whether the template has no hole: it would name the same target for every deletion.
    public var isConstant: Bool { paths.isEmpty }

    /// The text with every hole filled from `image`, or why it cannot be filled.
    public func fill(_ image: RecordImage) -> Result<String, RuleTextError> {
        fill { image.value($0) }
    }

    /// The text with every hole filled with what `lookup` finds for its path, or why it cannot be filled.
    public func fill(_ lookup: (AttributePath) -> RecordImage.Lookup) -> Result<String, RuleTextError> {
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text):
                out += text
            case .hole(let path, let filters):
                var value: String
                switch lookup(path) {
                case .text(let text): value = text
                case .missing: return .failure(RuleTextError("\(path) is missing from the record"))
                case .unusable(let why): return .failure(RuleTextError(why))
                case .bool: return .failure(RuleTextError("\(path) is not text"))
                }
                for filter in filters {
                    switch filter {
                    case .stripPrefix(let prefix):
                        guard value.hasPrefix(prefix) else {
                            return .failure(RuleTextError("\(path) is \(TargetCheck.quoted(value)), which does not start with '\(prefix)' (\(filter))"))
                        }
                        value = String(value.dropFirst(prefix.count))
                    case .stripSuffix(let suffix):
                        guard value.hasSuffix(suffix) else {
                            return .failure(RuleTextError("\(path) is \(TargetCheck.quoted(value)), which does not end with '\(suffix)' (\(filter))"))
                        }
                        value = String(value.dropLast(suffix.count))
                    case .lower:
                        value = value.lowercased()
                    }
                }
                if value.isEmpty {
                    return .failure(RuleTextError("\(path) is empty\(filters.isEmpty ? "" : " after its filters"); an empty hole would change what the target names"))
                }
                out += value
            }
        }
        return .success(out)
    }

    /// The template with every hole replaced by `sample`: what `config check` checks against the root, to
    /// catch targets that could never be safe (`../{…}`, `/{…}`, `a//{…}`) before any record arrives.
    public func sample(_ sample: String = "x") -> String {
        parts.map { part in
            switch part {
            case .literal(let text): text
            case .hole: sample
            }
        }.joined()
    }
}

extension String {
    var withoutOuterSpaces: String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}

extension Substring {
    var withoutOuterSpaces: String { String(self).withoutOuterSpaces }
}
