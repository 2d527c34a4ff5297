import Foundation

/// One HTTP request as it goes on the wire.
public struct HTTPRequest: Sendable {
    /// The method, e.g. "PUT".
    public var method: String
    /// The full URL, whose percent-encoded path and query are sent as they are.
    public var url: URL
    /// The headers to send, in order (Host is set by the transport from the URL).
    public var headers: [(name: String, value: String)]
    /// The body; empty for none.
    public var body: [UInt8]

    /// Creates a request.
    public init(method: String, url: URL, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The value of the first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// One HTTP response, read completely.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// The headers, by lower-cased name.
    public var headers: [String: String]
    /// The body as received.
    public var body: [UInt8]

    /// Creates a response; header names are lower-cased.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, b in "\(a),\(b)" })
        self.body = body
    }

    /// The value of a header (case-insensitive).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// How long a transport waits and how many connections it keeps, shared by every ``HTTPTransport``.
public struct HTTPTransportConfiguration: Sendable, Hashable {
    /// The most connections kept open to one host; size it for the requests in flight.
    public var maxConnectionsPerHost: Int
    /// How long to wait for more data on a connection before failing the request.
    public var requestTimeout: TimeInterval
    /// The longest a whole request may take.
    public var resourceTimeout: TimeInterval

    /// Creates a configuration.
    public init(maxConnectionsPerHost: Int = 64, requestTimeout: TimeInterval = 60, resourceTimeout: TimeInterval = 600) {
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.requestTimeout = requestTimeout
        self.resourceTimeout = resourceTimeout
    }

    /// 64 connections per host, 60 s request timeout (or `ARCHIVER_HTTP_TIMEOUT` seconds), 10 min resource timeout.
    public static let standard = HTTPTransportConfiguration(requestTimeout: requestTimeout(ProcessInfo.processInfo.environment))

    /// The request timeout `ARCHIVER_HTTP_TIMEOUT` sets (seconds, more than 0), else 60 s.
    public static func requestTimeout(_ environment: [String: String]) -> TimeInterval {
        guard let text = environment["ARCHIVER_HTTP_TIMEOUT"], let seconds = TimeInterval(text.trimmingCharacters(in: .whitespaces)),
            seconds > 0, seconds.isFinite
        else { return 60 }
        return seconds
    }
}

/// Sends HTTP requests. ``NIOHTTPTransport`` is the real one; tests use doubles.
public protocol HTTPTransport: Sendable {
    /// Sends the request and reads the whole response. Throws ``HTTPTransportError`` when there is no response.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse
}

/// A failure to get a response at all.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The connection could not be made or was lost.
        case connection
        /// The request or resource timeout elapsed.
        case timeout
        /// The task was cancelled.
        case cancelled
        /// Anything else (bad URL, TLS failure, …); not retried.
        case other
    }

    /// What went wrong.
    public var kind: Kind
    /// A short explanation, without secrets.
    public var reason: String

    /// Creates an error.
    public init(_ kind: Kind, _ reason: String) {
        self.kind = kind
        self.reason = reason
    }

    /// Whether retrying may help.
    public var isRetryable: Bool { kind == .connection || kind == .timeout }

    public var description: String { reason }
}
