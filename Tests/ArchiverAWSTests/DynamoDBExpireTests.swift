import ArchiverAWS
import ArchiverCore
import AWSClients
import Foundation
import JSONToolkit
import Testing
import TestSupport

/// A table of upload sessions on moto, keyed by `uploadSessionId`, with a `ttl` (epoch seconds) and a `status`.
struct SessionsTable {
    let dynamo: DynamoDBClient
    let table: String

    init() async throws {
        dynamo = DynamoDBClient(settings: try await MotoServer.shared().settings())
        table = MotoServer.uniqueName("sessions")
        try await dynamo.createTable(
            table, keySchema: [DynamoDBKeyElement(attributeName: "uploadSessionId", keyType: "HASH")],
            attributeDefinitions: [DynamoDBAttributeDefinition(attributeName: "uploadSessionId", attributeType: "S")])
    }

    /// Puts a session; `ttl` nil leaves the attribute out, a text `ttl` is stored as S (never expires).
    func put(_ id: String, ttl: String?, status: String = "created", ttlIsText: Bool = false) async throws {
        var item = #"{"uploadSessionId":{"S":"\#(id)"},"status":{"S":"\#(status)"}"#
        if let ttl { item += #","ttl":{"\#(ttlIsText ? "S" : "N")":"\#(ttl)"}"# }
        try await dynamo.putItem(table: table, itemJSON: Array((item + "}").utf8))
    }

    func ids() async throws -> [String] {
        var ids: [String] = []
        for try await item in dynamo.scanAll(table: table) {
            let member = try #require(try RawJSON.member("uploadSessionId", of: item))
            ids.append(try RawJSON.string(item, in: try #require(try RawJSON.objectMembers(item, in: member).first).value))
        }
        return ids.sorted()
    }

    /// Small pages by default, so paging is exercised.
    func expiring(where conditions: [String] = [], pageSize: Int? = 2) throws -> DynamoDBExpiringTable {
        DynamoDBExpiringTable(
            table: table, ttlAttribute: "ttl", conditions: try conditions.map { try DynamoDBAttributeCondition(parsing: $0) }, client: dynamo,
            pageSize: pageSize)
    }
}

@Suite("expire: DynamoDB items past their TTL, against moto")
struct DynamoDBExpireTests {
    static let now = FixedClock(Date(timeIntervalSince1970: 2_000))

    @Test func expiresWhatHasPassedAndOnlyThat() async throws {
        let t = try await SessionsTable()
        try await t.put("expired-1", ttl: "1000")
        try await t.put("expired-2", ttl: "1999.5")
        try await t.put("uploaded-expired", ttl: "1000", status: "uploaded")
        try await t.put("fresh", ttl: "3000")
        try await t.put("at-now", ttl: "2000")
        try await t.put("no-ttl", ttl: nil)
        try await t.put("text-ttl", ttl: "1000", ttlIsText: true)

        let dry = await ExpireRun(table: try t.expiring(), dryRun: true, clock: Self.now).run()
        #expect(dry.itemsExpired == 3 && dry.errors == 0)
        #expect(Set(dry.wouldExpire.map(\.keyText)) == ["uploadSessionId=expired-1", "uploadSessionId=expired-2", "uploadSessionId=uploaded-expired"])
        #expect(dry.itemsScanned == 7)
        #expect(try await t.ids().count == 7, "a dry run deleted items")

        let conditioned = await ExpireRun(table: try t.expiring(where: ["status!=uploaded"]), dryRun: false, clock: Self.now).run()
        #expect(conditioned.itemsExpired == 2 && conditioned.itemsRenewed == 0 && conditioned.errors == 0)
        #expect(try await t.ids() == ["at-now", "fresh", "no-ttl", "text-ttl", "uploaded-expired"])

        let rest = await ExpireRun(table: try t.expiring(where: [#"status={"S":"uploaded"}"#]), dryRun: false, clock: Self.now).run()
        #expect(rest.itemsExpired == 1)
        #expect(try await t.ids() == ["at-now", "fresh", "no-ttl", "text-ttl"])
    }

    /// The item is renewed after the scan found it expired and before its delete: the conditional delete keeps it.
    @Test func anItemRenewedBetweenTheScanAndTheDeleteIsKept() async throws {
        let t = try await SessionsTable()
        try await t.put("renewed", ttl: "1000")
        try await t.put("expired", ttl: "1000")
        try await t.put("changed", ttl: "1000")
        // One page holds all three, so all are found expired before any is renewed.
        let renewing = AfterEachPage(inner: try t.expiring(where: ["status=created"], pageSize: nil)) {
            try await t.put("renewed", ttl: "5000")
            try await t.put("changed", ttl: "1000", status: "uploaded")
        }
        let summary = await ExpireRun(table: renewing, dryRun: false, clock: Self.now).run()
        #expect(summary.itemsFound == 3, "the scan did not find all three expired: \(summary.itemsFound)")
        #expect(summary.itemsExpired == 1 && summary.itemsRenewed == 2 && summary.errors == 0)
        #expect(try await t.ids() == ["changed", "renewed"])
    }

    @Test func theConditionIsTheFilterAndNumbersKeepTheirDigits() throws {
        let t = DynamoDBExpiringTable(
            table: "t", ttlAttribute: "expires_at", conditions: [try DynamoDBAttributeCondition(parsing: "status!=uploaded"), try DynamoDBAttributeCondition(parsing: #"n={"N":"3"}"#)],
            client: DynamoDBClient(http: AWSHTTPClient(credentials: MotoServer.credentials, region: "us-east-1"), endpoint: URL(string: "http://127.0.0.1:9")!))
        let expression = t.expression(now: Date(timeIntervalSince1970: 1_705_315_800.25))
        #expect(expression.expression == "attribute_type(#ttl, :number) AND #ttl < :now AND #w0 <> :w0 AND #w1 = :w1")
        #expect(expression.names == ["#ttl": "expires_at", "#w0": "status", "#w1": "n"])
        #expect(String(decoding: expression.valuesJSON ?? [], as: UTF8.self) == #"{":now":{"N":"1705315800.250"},":number":{"S":"N"},":w0":{"S":"uploaded"},":w1":{"N":"3"}}"#)
        #expect(throws: DynamoDBConditionError.self) { try DynamoDBAttributeCondition(parsing: "no-operator") }
        #expect(throws: DynamoDBConditionError.self) { try DynamoDBAttributeCondition(parsing: #"n={"N":"3","S":"x"}"#) }
        #expect(try DynamoDBAttributeCondition(parsing: "note=a=b").valueJSON == Array(#"{"S":"a=b"}"#.utf8))
    }
}

/// An expiring table that runs `between` after each page is found and before the page's items are deleted.
struct AfterEachPage: ExpiringTable {
    let inner: DynamoDBExpiringTable
    let between: @Sendable () async throws -> Void

    var description: String { inner.description }

    func expired(at now: Date) -> AsyncThrowingStream<ExpiringPage, any Error> {
        let pages = Pages(inner.expired(at: now))
        let between = self.between
        return AsyncThrowingStream(unfolding: {
            guard let page = try await pages.next() else { return nil }
            try await between()
            return page
        })
    }

    func delete(_ item: ExpiringItem, ifStillExpiredAt now: Date) async throws -> ExpireOutcome {
        try await inner.delete(item, ifStillExpiredAt: now)
    }

    final class Pages: @unchecked Sendable {
        var iterator: AsyncThrowingStream<ExpiringPage, any Error>.AsyncIterator
        init(_ stream: AsyncThrowingStream<ExpiringPage, any Error>) { iterator = stream.makeAsyncIterator() }
        func next() async throws -> ExpiringPage? { try await iterator.next() }
    }
}
