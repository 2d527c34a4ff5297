import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// An ``HTTPTransport`` over AsyncHTTPClient (SwiftNIO): event-driven sockets, pooled connections, and timeouts
/// kept by the event loop (no thread polls while an answer is slow).
///
/// Create one per configuration and share it between clients, or use ``shared(_:)``, which keeps one
/// client per distinct ``HTTPTransportConfiguration`` for the life of the process.
public final class NIOHTTPTransport: HTTPTransport, Sendable {
    /// The timeouts and pool size of this transport.
    public let configuration: HTTPTransportConfiguration
    private let client: HTTPClient

    /// Creates a transport with its own connection pool on the process's shared event loops.
    public init(configuration: HTTPTransportConfiguration = .standard) {
        self.configuration = configuration
        var config = HTTPClient.Configuration(redirectConfiguration: .disallow)
        config.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maxConnectionsPerHost)
        // A connection that cannot be made fails its requests at once: the callers' retry policy decides (bounded,
        // with backoff, logged), not a silent wait for the connect timeout.
        config.connectionPool.retryConnectionEstablishment = false
        config.timeout = .init(connect: .seconds(10), read: Self.amount(configuration.requestTimeout))
        // Objects stored with `Content-Encoding: gzip` come back as stored, byte for byte.
        config.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    // Without waiting: a blocking shutdown would trap if the last reference went on one of the event loop's threads.
    deinit { _ = client.shutdown() }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var clients: [HTTPTransportConfiguration: NIOHTTPTransport] = [:]

    /// The process-wide transport for `configuration`.
    public static func shared(_ configuration: HTTPTransportConfiguration = .standard) -> NIOHTTPTransport {
        lock.withLock {
            if let existing = clients[configuration] { return existing }
            let created = NIOHTTPTransport(configuration: configuration)
            clients[configuration] = created
            return created
        }
    }

    /// Sends the request and reads the whole answer; a redirect is returned as it is, never followed (a redirected
    /// AWS request would go unsigned, or wrongly signed, to another host).
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers where header.name.lowercased() != "host" {
            outgoing.headers.add(name: header.name, value: header.value)
        }
        if !request.body.isEmpty || ["PUT", "POST"].contains(request.method) {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        do {
            // The resource timeout bounds the whole request, its body included: AsyncHTTPClient's own deadline ends
            // when the response's head arrives, and the read timeout only bounds the gaps in a body that trickles.
            let deadline = NIODeadline.now() + Self.amount(configuration.resourceTimeout)
            let response = try await client.execute(outgoing, deadline: deadline)
            var body = try await Self.collect(response.body, by: deadline)
            let bytes = body.readBytes(length: body.readableBytes) ?? []
            var headers: [String: String] = [:]
            for (name, value) in response.headers {
                let key = name.lowercased()
                headers[key] = headers[key].map { "\($0),\(value)" } ?? value
            }
            return HTTPResponse(status: Int(response.status.code), headers: headers, body: bytes)
        } catch {
            throw Self.transportError(error, url: request.url)
        }
    }

    /// The whole body, or `HTTPClientError.deadlineExceeded` when it has not all arrived by `deadline` (reading it
    /// is then cancelled, which closes the connection).
    private static func collect(_ body: HTTPClientResponse.Body, by deadline: NIODeadline) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await body.collect(upTo: Int.max) }
            group.addTask {
                try await Task.sleep(nanoseconds: UInt64(max(0, (deadline - .now()).nanoseconds)))
                return nil
            }
            defer { group.cancelAll() }
            guard case let buffer?? = try await group.next() else { throw HTTPClientError.deadlineExceeded }
            return buffer
        }
    }

    /// What a failure of AsyncHTTPClient or SwiftNIO means to a caller: whether it may be retried, and why.
    static func transportError(_ error: any Error, url: URL) -> HTTPTransportError {
        let origin = origin(url)
        if error is CancellationError { return HTTPTransportError(.cancelled, "request to \(origin) was cancelled") }
        if let client = error as? HTTPClientError {
            switch client {
            case .readTimeout, .deadlineExceeded, .connectTimeout, .getConnectionFromPoolTimeout:
                return HTTPTransportError(.timeout, "request to \(origin) timed out")
            case .cancelled:
                return HTTPTransportError(.cancelled, "request to \(origin) was cancelled")
            case .remoteConnectionClosed, .bodyLengthMismatch:
                return cutShort(origin)
            case .invalidURL, .emptyHost, .emptyScheme, .missingSocketPath:
                return HTTPTransportError(.other, "request to \(origin) cannot be sent: \(client)")
            default:
                return HTTPTransportError(.connection, "request to \(origin) failed: \(client)")
            }
        }
        if let parser = error as? HTTPParserError {
            if parser == .invalidEOFState { return cutShort(origin) }
            return HTTPTransportError(.connection, "the answer from \(origin) is not valid HTTP (\(parser))")
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return refused(origin)
            case ECONNRESET, EPIPE: return HTTPTransportError(.connection, "connection to \(origin) was reset")
            default: return HTTPTransportError(.connection, "connection to \(origin) failed: \(io)")
            }
        }
        if let connect = error as? NIOConnectionError {
            if connect.dnsAAAAError != nil || connect.dnsAError != nil, connect.connectionErrors.isEmpty {
                return HTTPTransportError(.connection, "could not resolve the host of \(origin)")
            }
            if connect.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) { return refused(origin) }
            return HTTPTransportError(.connection, "could not connect to \(origin)")
        }
        if String(reflecting: type(of: error)).contains("NIOSSL") {
            return HTTPTransportError(.other, "TLS connection to \(origin) failed: \(error)")
        }
        return HTTPTransportError(.connection, "request to \(origin) failed: \(error)")
    }

    private static func cutShort(_ origin: String) -> HTTPTransportError {
        HTTPTransportError(.connection, "the answer from \(origin) was cut short: the connection closed before its whole body arrived")
    }

    private static func refused(_ origin: String) -> HTTPTransportError {
        HTTPTransportError(.connection, "could not connect to \(origin) (connection refused)")
    }

    private static func origin(_ url: URL) -> String {
        var text = "\(url.scheme ?? "http")://\(url.host ?? "")"
        if let port = url.port { text += ":\(port)" }
        return text
    }

    /// Seconds as a NIO time amount (at least a millisecond).
    private static func amount(_ seconds: TimeInterval) -> TimeAmount {
        .milliseconds(Int64(max(1, (seconds * 1000).rounded())))
    }
}
