import ArchiverCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JSONToolkit
import Logging
import NIOCore
import TestSupport

@testable import ArchiverServe

/// A served archive for in-process tests: a feed archived once (objects and dead letters), a state folder, the routes
/// built as `archiver serve` builds them, and a client that goes through every middleware.
final class ServeTestbed: @unchecked Sendable {
    static let token = "serve-test-token-0123456789abcdef"
    let folder: TemporaryFolder
    let feed: String
    let counts: SampleFeed.Counts
    let context: ServeContext
    let router: Router<ServeRequestContext>
    let api: APIRoutes
    let target: RecordingTarget

    /// `records` lines of the sample feed, then `extraLines`, archived into `<folder>/archive`.
    init(records: Int = 120, extraLines: [String] = [], sources: [ServeSource]? = nil) async throws {
        folder = TemporaryFolder("serve")
        feed = folder("feed.jsonl")
        var (text, counts) = SampleFeed.text(0..<records)
        for line in extraLines { text += line + "\n" }
        self.counts = counts
        try Data(text.utf8).write(to: URL(fileURLWithPath: feed))
        let store = try LocalArchiveStore(path: folder("archive"))
        let checkpoints = try CheckpointStore(stateFolder: folder("state"))
        _ = try await ArchivePipeline(
            source: JSONLinesSource(path: feed), store: store, checkpoints: checkpoints, deadLetters: try DeadLetterFolder(stateFolder: folder("state")),
            options: TailOptions(follow: false, workers: 2)
        ).run(stop: StopSignal())
        target = RecordingTarget()
        let target = self.target
        let feed = self.feed
        let parts = ServeParts(
            stateFolder: folder("state"), archive: store,
            sources: sources ?? [ServeSource(name: "jsonl:" + feed) { JSONLinesSource(path: feed) }],
            restoreTargets: [ServeRestoreTarget(name: "memory", spec: "memory:items") { target }],
            tailOptions: TailOptions(workers: 2))
        let settings = ServeSettings(
            listen: ListenAddress(host: "127.0.0.1", port: 0), token: try ServeToken(Self.token, origin: "the test"),
            restartBase: 0.05, restartMaximum: 0.2)
        context = try ArchiverServer(parts: parts, settings: settings, logger: Logger(label: "serve-test")).makeContext()
        (router, api) = try ServeRouter.build(context: context)
    }

    deinit { folder.remove() }

    /// Runs `body` with a client of the routes.
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await Application(router: router).test(.router, body)
    }

    static var bearer: HTTPFields { [.authorization: "Bearer \(token)"] }
}

extension TestClientProtocol {
    /// A request with the bearer token.
    func authorized(_ uri: String, _ method: HTTPRequest.Method = .get, json: String? = nil) async throws -> TestResponse {
        var headers = ServeTestbed.bearer
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// A form post.
    func form(_ uri: String, _ fields: [(String, String)], headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    var json: JSONValue {
        get throws { try JSONValue.parse(Array(body.readableBytesView)) }
    }

    /// The `field` of a JSON error.
    var errorField: String? { (try? json)?["error"]?["field"]?.stringValue }
}

/// Keeps restored items in memory (a restore target for the tests of the layer above the targets).
final class RecordingTarget: RestoreTarget, @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String: Item] = [:]
    var location: String { "memory" }

    var restored: [String: Item] { lock.withLock { items } }

    func restore(_ items: [RestoreItem], overwrite: Bool, dryRun: Bool) async throws -> [RestoreOutcome] {
        lock.withLock {
            items.map { item in
                let key = item.keyDescription
                if self.items[key] != nil && !overwrite { return .exists("an item with key \(key) is there; pass overwrite to replace it") }
                if !dryRun { self.items[key] = item.item }
                return .restored
            }
        }
    }
}
