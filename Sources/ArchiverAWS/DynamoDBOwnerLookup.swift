import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit

/// Owner lookups in a DynamoDB table keyed by one attribute: a strongly consistent GetItem that reads the key only.
///
/// The table's key schema is read once (DescribeTable): the attribute must be its partition key and the table must
/// have no sort key. An id that cannot be a value of the key's type (text for a number key) is an error, not a
/// "no": a key pattern that finds the wrong text must keep objects, not delete them all. Answers that say the table
/// cannot be used (no such table, access denied, wrong key) are remembered, so a run does not ask again for every
/// object; failures that may pass (throttling, timeouts) are not.
public struct DynamoDBOwnerLookup: OwnerLookup {
    public let table: String
    /// The key attribute as named; nil: the partition key.
    public let attribute: String?
    private let client: DynamoDBClient
    private let schema: KeySchemaCache

    public init(table: String, attribute: String?, client: DynamoDBClient) {
        self.table = table
        self.attribute = attribute
        self.client = client
        schema = KeySchemaCache(table: table, attribute: attribute, client: client)
    }

    public var description: String { "dynamodb:\(table)" + (attribute.map { "#\($0)" } ?? "") }

    public func ownerExists(_ id: String) async throws -> Bool {
        let key = try await schema.resolve()
        var value = JSONObjectWriter()
        switch key.type {
        case "S":
            value.string("S", id)
        case "N":
            guard Self.isNumber(id) else {
                throw OwnerLookupError(
                    "the id '\(id)' is not a number, and the key \(key.name) of table \(table) is one; check the key pattern (the object is kept)")
            }
            value.string("N", id)
        default:
            throw OwnerLookupError("the key \(key.name) of table \(table) is of type \(key.type); owner lookups take text (S) or number (N) keys")
        }
        var keyJSON = JSONObjectWriter()
        keyJSON.raw(key.name, value.finished())
        return try await client.itemExists(table: table, keyJSON: keyJSON.finished(), consistentRead: true)
    }

    /// A decimal number as DynamoDB takes it: optional sign, digits, optional fraction and exponent.
    static func isNumber(_ text: String) -> Bool {
        text.range(of: #"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"#, options: .regularExpression) != nil
    }
}

/// An owner lookup that cannot be made; says what to do.
public struct OwnerLookupError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The key attribute of the owner table (its name and type), read once by the first lookup while the others wait for
/// it; a refusal that will not change is kept too, a failure that may pass is asked again next time.
private actor KeySchemaCache {
    let table: String
    let attribute: String?
    let client: DynamoDBClient
    private var reading: Task<(name: String, type: String), any Error>?

    init(table: String, attribute: String?, client: DynamoDBClient) {
        self.table = table
        self.attribute = attribute
        self.client = client
    }

    func resolve() async throws -> (name: String, type: String) {
        let task: Task<(name: String, type: String), any Error>
        if let reading {
            task = reading
        } else {
            let (table, attribute, client) = (self.table, self.attribute, self.client)
            task = Task { try await Self.read(table: table, attribute: attribute, client: client) }
            reading = task
        }
        do {
            return try await task.value
        } catch let error as OwnerLookupError {
            throw error
        } catch {
            if reading == task { reading = nil }
            throw error
        }
    }

    private static func read(table: String, attribute: String?, client: DynamoDBClient) async throws -> (name: String, type: String) {
        let description: DynamoDBTableDescription
        do {
            description = try await client.describeTable(table)
        } catch let error as AWSError where [.resourceNotFound, .accessDenied, .invalidCredentials].contains(error.kind) {
            throw OwnerLookupError(
                error.kind == .resourceNotFound
                    ? "there is no DynamoDB table \(table) (\(error)); objects are kept"
                    : "cannot read DynamoDB table \(table): \(error)")
        }
        let keys = description.keySchema.map(\.attributeName)
        guard let hash = description.keySchema.first(where: { $0.keyType == "HASH" })?.attributeName else {
            throw OwnerLookupError("DynamoDB did not say what the key of table \(table) is")
        }
        guard keys.count == 1 else {
            throw OwnerLookupError(
                "table \(table) is keyed by \(keys.joined(separator: " and ")); owner lookups need a table keyed by one attribute")
        }
        if let attribute, attribute != hash {
            throw OwnerLookupError("\(attribute) is not the key of table \(table) (its key is \(hash)); write dynamodb:\(table)#\(hash)")
        }
        let type = description.attributeDefinitions.first { $0.attributeName == hash }?.attributeType ?? "S"
        return (hash, type)
    }
}
