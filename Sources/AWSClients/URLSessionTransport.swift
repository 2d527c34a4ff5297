import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An ``HTTPTransport`` over Foundation's `URLSession` (libcurl on Linux), with connection reuse.
///
/// Create one per configuration and share it between clients, or use ``shared(_:)``, which keeps one
/// session per distinct ``Configuration`` for the life of the process.
public final class URLSessionTransport: HTTPTransport, @unchecked Sendable {
    /// Session settings.
    public struct Configuration: Sendable, Hashable {
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
        public static let standard = Configuration(requestTimeout: requestTimeout(ProcessInfo.processInfo.environment))

        /// The request timeout `ARCHIVER_HTTP_TIMEOUT` sets (seconds, more than 0), else 60 s.
        public static func requestTimeout(_ environment: [String: String]) -> TimeInterval {
            guard let text = environment["ARCHIVER_HTTP_TIMEOUT"], let seconds = TimeInterval(text.trimmingCharacters(in: .whitespaces)),
                seconds > 0, seconds.isFinite
            else { return 60 }
            return seconds
        }
    }

    /// The configuration of the session.
    public let configuration: Configuration
    private let session: URLSession

    /// Creates a transport with its own session.
    public init(configuration: Configuration = .standard) {
        self.configuration = configuration
        let config = URLSessionConfiguration.ephemeral
        config.httpMaximumConnectionsPerHost = configuration.maxConnectionsPerHost
        config.timeoutIntervalForRequest = configuration.requestTimeout
        config.timeoutIntervalForResource = configuration.resourceTimeout
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.urlCache = nil
        config.httpCookieStorage = nil
        config.httpShouldSetCookies = false
        config.httpCookieAcceptPolicy = .never
        self.session = URLSession(configuration: config, delegate: RedirectRefuser(), delegateQueue: nil)
    }

    deinit {
        session.finishTasksAndInvalidate()
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var sessions: [Configuration: URLSessionTransport] = [:]

    /// The process-wide transport for `configuration`.
    public static func shared(_ configuration: Configuration = .standard) -> URLSessionTransport {
        lock.lock()
        defer { lock.unlock() }
        if let existing = sessions[configuration] { return existing }
        let created = URLSessionTransport(configuration: configuration)
        sessions[configuration] = created
        return created
    }

    /// Sends the request through the shared session; the body is read completely.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = configuration.requestTimeout
        for header in request.headers where header.name.lowercased() != "host" {
            urlRequest.addValue(header.value, forHTTPHeaderField: header.name)
        }
        if !request.body.isEmpty || ["PUT", "POST"].contains(request.method) {
            urlRequest.httpBody = Data(request.body)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await session.data(for: urlRequest)
        } catch let error as URLError {
            throw Self.transportError(error, url: request.url)
        } catch is CancellationError {
            throw HTTPTransportError(.cancelled, "cancelled")
        } catch {
            throw HTTPTransportError(.connection, "request to \(Self.origin(request.url)) failed: \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else {
            throw HTTPTransportError(.other, "response from \(Self.origin(request.url)) is not HTTP")
        }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            guard let name = name as? String, let value = value as? String else { continue }
            headers[name.lowercased()] = value
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: [UInt8](data))
    }

    private static func origin(_ url: URL) -> String {
        var text = "\(url.scheme ?? "http")://\(url.host ?? "")"
        if let port = url.port { text += ":\(port)" }
        return text
    }

    private static func transportError(_ error: URLError, url: URL) -> HTTPTransportError {
        let origin = origin(url)
        switch error.code {
        case .timedOut:
            return HTTPTransportError(.timeout, "request to \(origin) timed out")
        case .cancelled:
            return HTTPTransportError(.cancelled, "request to \(origin) was cancelled")
        case .cannotConnectToHost:
            return HTTPTransportError(.connection, "could not connect to \(origin) (connection refused)")
        case .cannotFindHost, .dnsLookupFailed:
            return HTTPTransportError(.connection, "could not resolve the host of \(origin)")
        case .networkConnectionLost, .notConnectedToInternet, .badServerResponse, .cannotParseResponse,
            .zeroByteResource, .resourceUnavailable, .dataNotAllowed, .internationalRoamingOff, .callIsActive,
            .cannotLoadFromNetwork:
            return HTTPTransportError(.connection, "connection to \(origin) failed: \(error.localizedDescription)")
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
            .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot, .clientCertificateRejected,
            .clientCertificateRequired:
            return HTTPTransportError(.other, "TLS connection to \(origin) failed: \(error.localizedDescription)")
        default:
            return HTTPTransportError(.connection, "request to \(origin) failed: \(error.localizedDescription) (URLError \(error.code.rawValue))")
        }
    }
}

/// Keeps URLSession from following redirects: a redirected AWS request would go unsigned (or wrongly signed)
/// to another host, so the 3xx answer is returned as it is and reported as an error.
private final class RedirectRefuser: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }
}
