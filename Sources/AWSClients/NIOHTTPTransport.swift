import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// An ``HTTPTransport`` over AsyncHTTPClient (SwiftNIO): event-driven, no polling while responses are slow.
public final class NIOHTTPTransport: HTTPTransport, Sendable {
    public let configuration: URLSessionTransport.Configuration
    private let client: HTTPClient

    public init(configuration: URLSessionTransport.Configuration = .standard) {
        self.configuration = configuration
        var config = HTTPClient.Configuration(redirectConfiguration: .disallow)
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maxConnectionsPerHost)
        config.timeout = .init(connect: .seconds(10), read: .seconds(Int64(configuration.requestTimeout)))
        config.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    deinit { try? client.syncShutdown() }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var clients: [URLSessionTransport.Configuration: NIOHTTPTransport] = [:]

    /// The process-wide transport for `configuration`.
    public static func shared(_ configuration: URLSessionTransport.Configuration = .standard) -> NIOHTTPTransport {
        lock.lock()
        defer { lock.unlock() }
        if let existing = clients[configuration] { return existing }
        let created = NIOHTTPTransport(configuration: configuration)
        clients[configuration] = created
        return created
    }

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var outgoing = HTTPClientRequest(url: request.url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers where header.name.lowercased() != "host" {
            outgoing.headers.add(name: header.name, value: header.value)
        }
        if !request.body.isEmpty || ["PUT", "POST"].contains(request.method) {
            outgoing.body = .bytes(ByteBuffer(bytes: request.body))
        }
        let origin = "\(request.url.scheme ?? "http")://\(request.url.host ?? "")\(request.url.port.map { ":\($0)" } ?? "")"
        do {
            let response = try await client.execute(outgoing, timeout: .seconds(Int64(configuration.resourceTimeout)))
            var body = try await response.body.collect(upTo: Int.max)
            let bytes = body.readBytes(length: body.readableBytes) ?? []
            var headers: [String: String] = [:]
            for (name, value) in response.headers {
                let key = name.lowercased()
                headers[key] = headers[key].map { "\($0),\(value)" } ?? value
            }
            return HTTPResponse(status: Int(response.status.code), headers: headers, body: bytes)
        } catch is CancellationError {
            throw HTTPTransportError(.cancelled, "cancelled")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw HTTPTransportError(.timeout, "request to \(origin) timed out")
        } catch {
            throw HTTPTransportError(.connection, "request to \(origin) failed: \(error)")
        }
    }
}
