import Foundation
import JSONToolkit

/// A DynamoDB condition or filter expression with its placeholders, e.g.
/// `DynamoDBExpression("#t < :now", names: ["#t": "expires_at"], valuesJSON: Array(#"{":now":{"N":"1700000000"}}"#.utf8))`.
///
/// Values travel as raw DynamoDB JSON, spliced into the request unchanged, so numbers keep every digit.
public struct DynamoDBExpression: Sendable, Equatable {
    /// The expression text.
    public var expression: String
    /// The `#name` placeholders and the attribute names they stand for.
    public var names: [String: String]
    /// The `:value` placeholders as one raw DynamoDB JSON object (`{":v": {"S": "x"}}`); nil when there are none.
    public var valuesJSON: [UInt8]?

    /// Creates an expression.
    public init(_ expression: String, names: [String: String] = [:], valuesJSON: [UInt8]? = nil) {
        self.expression = expression
        self.names = names
        self.valuesJSON = valuesJSON
    }
}

/// Writes expressions, projections and their placeholder maps into a request body.
struct DynamoDBExpressionWriter {
    private var names: [String: String] = [:]
    private var values: [UInt8]?
    let operation: String
    let table: String

    init(operation: String, table: String) {
        self.operation = operation
        self.table = table
    }

    private func refuse(_ reason: String) -> AWSError {
        AWSError.invalidRequest(.dynamoDB, operation: operation, reason: reason, resource: AWSResource(table: table))
    }

    /// Adds `expression` as member `member` (e.g. "ConditionExpression") with its placeholders.
    mutating func expression(_ member: String, _ expression: DynamoDBExpression, into body: inout JSONObjectWriter) throws {
        guard !expression.expression.trimmingCharacters(in: .whitespaces).isEmpty else { throw refuse("the \(member) is empty") }
        try add(names: expression.names)
        if let json = expression.valuesJSON {
            do {
                try RawJSON.validateObject(json)
            } catch {
                throw refuse("the values of the \(member) are not a JSON object: \(error)")
            }
            guard values == nil else { throw refuse("only one expression of a request may carry values") }
            values = json
        }
        body.string(member, expression.expression)
    }

    /// Adds a `ProjectionExpression` naming top-level `attributes` through `#projN` placeholders.
    mutating func projection(_ attributes: [String], into body: inout JSONObjectWriter) throws {
        guard !attributes.isEmpty else { throw refuse("a projection needs at least one attribute") }
        if let empty = attributes.firstIndex(where: \.isEmpty) { throw refuse("projected attribute \(empty + 1) has an empty name") }
        let placeholders = attributes.indices.map { "#proj\($0)" }
        try add(names: Dictionary(uniqueKeysWithValues: zip(placeholders, attributes)))
        body.string("ProjectionExpression", placeholders.joined(separator: ", "))
    }

    private mutating func add(names more: [String: String]) throws {
        for (placeholder, name) in more {
            guard placeholder.hasPrefix("#"), placeholder.count > 1 else {
                throw refuse("the attribute name placeholder '\(placeholder)' must start with '#'")
            }
            if let existing = names[placeholder], existing != name {
                throw refuse("the placeholder '\(placeholder)' stands for both '\(existing)' and '\(name)'")
            }
            names[placeholder] = name
        }
    }

    /// Writes `ExpressionAttributeNames` and `ExpressionAttributeValues` when there are any.
    func finish(into body: inout JSONObjectWriter) {
        if !names.isEmpty { body.stringMap("ExpressionAttributeNames", names.sorted { $0.key < $1.key }) }
        if let values { body.raw("ExpressionAttributeValues", values) }
    }
}
