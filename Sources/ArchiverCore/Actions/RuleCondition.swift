import Foundation

/// A condition of a rule's `where:` list, on one value of the deleted record:
///
///     OldImage.status.S == uploaded        equal (N values compare as numbers, BOOL as true/false)
///     OldImage.status.S != draft           present and different
///     Keys.PK.S starts-with USER#          present and starting with the text
///     OldImage.s3UploadId.S exists         present, of that type
///     OldImage.s3UploadId.S missing        absent
///
/// The text after the operator is taken as written (spaces around it removed); put it in double quotes to keep
/// spaces or to compare with the empty text (`== ""`). A value of another type than the path says makes every
/// condition but `missing` false.
public struct RuleCondition: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case equal = "=="
        case notEqual = "!="
        case startsWith = "starts-with"
        case exists
        case missing
    }

    public let path: AttributePath
    public let op: Operator
    /// The text compared with (nil for exists and missing).
    public let operand: String?
    /// As written.
    public let description: String

    public init(_ text: String) throws(RuleTextError) {
        description = text
        let trimmed = text.withoutOuterSpaces
        let pathText = String(trimmed.prefix { $0 != " " })
        let rest = trimmed.dropFirst(pathText.count).withoutOuterSpaces
        let opText = String(rest.prefix { $0 != " " })
        guard let op = Operator(rawValue: opText) else {
            throw RuleTextError("'\(text)' is not a condition; write e.g. 'OldImage.status.S == uploaded' or 'OldImage.uploadId.S exists' (operators: ==, !=, starts-with, exists, missing)")
        }
        let path: AttributePath
        do {
            path = try AttributePath(pathText, types: [.s, .n, .bool])
        } catch {
            throw RuleTextError("'\(text)': \(error)")
        }
        var operand: String? = rest.dropFirst(opText.count).withoutOuterSpaces
        switch op {
        case .exists, .missing:
            guard operand!.isEmpty else { throw RuleTextError("'\(text)': '\(op.rawValue)' takes no value") }
            operand = nil
        case .equal, .notEqual, .startsWith:
            if operand!.count >= 2 && operand!.hasPrefix("\"") && operand!.hasSuffix("\"") {
                operand = String(operand!.dropFirst().dropLast())
            } else if operand!.isEmpty {
                throw RuleTextError("'\(text)': compare with what? (write == \"\" for the empty text)")
            }
            if path.type == .bool, op == .startsWith {
                throw RuleTextError("'\(text)': starts-with applies to S and N values")
            }
            if path.type == .bool, !["true", "false"].contains(operand!) {
                throw RuleTextError("'\(text)': a BOOL value is true or false")
            }
            if path.type == .n, op != .startsWith, Decimal(string: operand!, locale: Locale(identifier: "en_US_POSIX")) == nil || !isDynamoDBNumber(operand!) {
                throw RuleTextError("'\(text)': '\(operand!)' is not a number")
            }
        }
        self.path = path
        self.op = op
        self.operand = operand
    }

    /// Whether the condition holds for the record.
    public func holds(for image: RecordImage) -> Bool {
        let found = image.value(path)
        switch op {
        case .missing:
            return found == .missing
        case .exists:
            if case .text = found { return true }
            if case .bool = found { return true }
            return false
        case .equal, .notEqual:
            let same: Bool
            switch found {
            case .text(let value) where path.type == .n: same = Self.decimal(value) == Self.decimal(operand!)
            case .text(let value): same = value == operand
            case .bool(let flag): same = (flag ? "true" : "false") == operand
            case .missing, .unusable: return false
            }
            return op == .equal ? same : !same
        case .startsWith:
            if case .text(let value) = found { return value.hasPrefix(operand!) }
            return false
        }
    }

    private static func decimal(_ text: String) -> Decimal? {
        Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
    }
}
