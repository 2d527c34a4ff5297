import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit

/// A condition on an attribute for `archiver expire --where`: `status=created`, `status!=uploaded`, or a typed value
/// `attempts={"N":"3"}`. A plain value is text (S).
public struct DynamoDBAttributeCondition: Sendable, Equatable, CustomStringConvertible {
    public var attribute: String
    /// `=` or `<>`.
    public var equal: Bool
    /// The value as DynamoDB JSON (`{"S":"created"}`).
    public var valueJSON: [UInt8]

    public init(attribute: String, equal: Bool, valueJSON: [UInt8]) {
        self.attribute = attribute
        self.equal = equal
        self.valueJSON = valueJSON
    }

    /// Reads `<attribute>=<value>` or `<attribute>!=<value>`.
    /// - Throws: `OwnerLookupError`-like `DynamoDBConditionError` saying what to write.
    public init(parsing text: String) throws {
        let notEqual = text.range(of: "!=")
        let equalSign = text.firstIndex(of: "=")
        let name: Substring
        let value: Substring
        if let notEqual, notEqual.lowerBound <= (equalSign ?? text.endIndex) {
            name = text[..<notEqual.lowerBound]
            value = text[notEqual.upperBound...]
            equal = false
        } else if let equalSign {
            name = text[..<equalSign]
            value = text[text.index(after: equalSign)...]
            equal = true
        } else {
            throw DynamoDBConditionError("'\(text)' is not a condition; write <attribute>=<value> or <attribute>!=<value>, e.g. status!=uploaded")
        }
        guard !name.isEmpty else { throw DynamoDBConditionError("'\(text)' names no attribute; write <attribute>=<value>") }
        attribute = String(name)
        if value.hasPrefix("{") {
            let bytes = Array(value.utf8)
            guard let members = try? RawJSON.objectMembers(bytes), members.count == 1,
                ["S", "N", "BOOL", "NULL", "B"].contains(members[0].key)
            else {
                throw DynamoDBConditionError("'\(value)' is not one DynamoDB value; write e.g. {\"N\":\"3\"}, {\"BOOL\":true}, or plain text")
            }
            valueJSON = bytes
        } else {
            var writer = JSONObjectWriter()
            writer.string("S", String(value))
            valueJSON = writer.finished()
        }
    }

    public var description: String { "\(attribute)\(equal ? "=" : "!=")\(String(decoding: valueJSON, as: UTF8.self))" }
}

/// A `--where` that cannot be read.
public struct DynamoDBConditionError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A DynamoDB table whose items carry a TTL attribute (a number of epoch seconds), for `archiver expire`.
///
/// The search is a Scan whose filter is `<ttl> < :now` (a number: DynamoDB's TTL ignores any other type) and the conditions, reading only the key and the TTL; each
/// delete is a DeleteItem with the same expression as its condition, so an item renewed (or changed so a condition
/// no longer holds) between the Scan and the delete is kept: DynamoDB answers ConditionalCheckFailed and nothing is
/// deleted. With a stream enabled, these deletions reach `archiver tail` as manual REMOVEs (their `userIdentity` is
/// not DynamoDB's TTL service): they are archived with kind `manual`, unlike the TTL's own deletions.
public struct DynamoDBExpiringTable: ExpiringTable {
    public let table: String
    public let ttlAttribute: String
    public let conditions: [DynamoDBAttributeCondition]
    /// Items read per Scan page.
    public var pageSize: Int?
    private let client: DynamoDBClient

    public init(table: String, ttlAttribute: String, conditions: [DynamoDBAttributeCondition] = [], client: DynamoDBClient, pageSize: Int? = nil) {
        self.table = table
        self.ttlAttribute = ttlAttribute
        self.conditions = conditions
        self.client = client
        self.pageSize = pageSize
    }

    public var description: String {
        "dynamodb:\(table) (ttl: \(ttlAttribute)" + (conditions.isEmpty ? "" : "; where \(conditions.map(\.description).joined(separator: ", "))") + ")"
    }

    /// The expression "still expired at `now` and every condition holds", as filter and as delete condition.
    public func expression(now: Date) -> DynamoDBExpression {
        var names = ["#ttl": ttlAttribute]
        var values = JSONObjectWriter()
        var nowValue = JSONObjectWriter()
        nowValue.string("N", Self.epochText(now))
        values.raw(":now", nowValue.finished())
        // DynamoDB's TTL takes only numbers; a TTL stored as text never expires (and is never compared with a number).
        values.raw(":number", Array(#"{"S":"N"}"#.utf8))
        var text = "attribute_type(#ttl, :number) AND #ttl < :now"
        for (index, condition) in conditions.enumerated() {
            names["#w\(index)"] = condition.attribute
            values.raw(":w\(index)", condition.valueJSON)
            text += " AND #w\(index) \(condition.equal ? "=" : "<>") :w\(index)"
        }
        return DynamoDBExpression(text, names: names, valuesJSON: values.finished())
    }

    /// Epoch seconds to the millisecond, as a DynamoDB number (`1705315800.25`).
    static func epochText(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let whole = milliseconds / 1000, fraction = milliseconds % 1000
        if milliseconds < 0 { return String(format: "%.3f", Double(milliseconds) / 1000) }
        return fraction == 0 ? "\(whole)" : "\(whole).\(String(format: "%03d", fraction))"
    }

    public func expired(at now: Date) -> AsyncThrowingStream<ExpiringPage, any Error> {
        let state = ScanState()
        let (client, table, ttl, pageSize) = (self.client, self.table, self.ttlAttribute, self.pageSize)
        let filter = expression(now: now)
        return AsyncThrowingStream(unfolding: {
            guard let keyNames = try await state.keyNames(table: table, client: client) else { return nil }
            guard case .some(let start) = await state.startKey() else { return nil }
            let page = try await client.scan(
                table: table, limit: pageSize, exclusiveStartKeyJSON: start, filter: filter, projection: Array(Set(keyNames + [ttl])).sorted())
            await state.advance(to: page.lastEvaluatedKey)
            let items = try page.items.map { try Self.item($0, keyNames: keyNames, ttl: ttl, table: table) }
            return ExpiringPage(items: items, scanned: page.scannedCount)
        })
    }

    public func delete(_ item: ExpiringItem, ifStillExpiredAt now: Date) async throws -> ExpireOutcome {
        do {
            try await client.deleteItem(table: table, keyJSON: item.keyJSON, condition: expression(now: now))
            return .deleted
        } catch let error as AWSError where error.kind == .conditionalCheckFailed {
            return .kept
        }
    }

    /// The key (in the table's key order) and TTL of a scanned item.
    static func item(_ json: [UInt8], keyNames: [String], ttl: String, table: String) throws -> ExpiringItem {
        do {
            let members = try RawJSON.objectMembers(json)
            var key = JSONObjectWriter()
            var text: [String] = []
            for name in keyNames {
                guard let value = members.first(where: { $0.key == name })?.value else {
                    throw DynamoDBConditionError("an item of \(table) came back without its key attribute \(name)")
                }
                key.raw(name, Array(json[value]))
                var shown = String(decoding: json[value], as: UTF8.self)
                if let typed = try RawJSON.objectMembers(json, in: value).first, ["S", "N"].contains(typed.key),
                    let plain = try? RawJSON.string(json, in: typed.value)
                {
                    shown = plain
                }
                text.append("\(name)=\(shown)")
            }
            var expiresAt = ""
            if let value = members.first(where: { $0.key == ttl })?.value, let number = try RawJSON.objectMembers(json, in: value).first(where: { $0.key == "N" }) {
                expiresAt = try RawJSON.string(json, in: number.value)
            }
            return ExpiringItem(keyJSON: key.finished(), keyText: text.joined(separator: ", "), expiresAt: expiresAt)
        } catch let error as DynamoDBConditionError {
            throw error
        } catch {
            throw AWSError.invalidResponse(.dynamoDB, operation: "Scan", reason: "an item is not DynamoDB JSON: \(error)", resource: AWSResource(table: table))
        }
    }
}

/// Where a scan is: the table's key names once read, and the next page's start key.
private actor ScanState {
    private var names: [String]?
    private var start: [UInt8]?
    private var finished = false

    func keyNames(table: String, client: DynamoDBClient) async throws -> [String]? {
        if finished { return nil }
        if let names { return names }
        let read = DynamoDBStreamsSource.keyOrder(try await client.describeTable(table).keySchema)
        names = read
        return read
    }

    /// The start key of the next page (`.some(nil)`: the first page); nil when the scan is over.
    func startKey() -> [UInt8]?? { finished ? nil : .some(start) }

    func advance(to next: [UInt8]?) {
        start = next
        finished = next == nil
    }
}
