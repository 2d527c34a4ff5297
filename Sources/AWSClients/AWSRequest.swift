import Foundation
import Logging

/// One AWS API call before signing: where it goes, what it carries, and how to name it in errors and logs.
public struct AWSRequest: Sendable {
    /// How the payload is covered by the signature.
    public enum PayloadSigning: Sendable {
        /// Hash the body (SHA-256) and sign the hash.
        case hashBody
        /// Sign this precomputed hex SHA-256 of the body.
        case precomputed(sha256Hex: String)
        /// Sign `UNSIGNED-PAYLOAD` (S3 only).
        case unsigned
    }

    /// The service called.
    public var service: AWSService
    /// The operation name, e.g. "PutObject", used in errors and logs.
    public var operation: String
    /// The HTTP method.
    public var method: String
    /// The service endpoint: scheme, host, optional port and optional base path (no query).
    public var endpoint: URL
    /// The percent-encoded path under the endpoint, starting with "/".
    public var path: String
    /// The percent-encoded query, without "?".
    public var query: String
    /// Headers to send and sign (Host and the signature headers are added when sending).
    public var headers: [(name: String, value: String)]
    /// The body.
    public var body: [UInt8]
    /// How the body is signed.
    public var payloadSigning: PayloadSigning
    /// What the call is about, for error messages.
    public var resource: AWSResource?
    /// Extra log metadata, e.g. `"s3.key"`.
    public var logMetadata: Logger.Metadata
    /// Whether a 200 answer may carry an `<Error>` body that must be treated as a failure (S3 CompleteMultipartUpload, CopyObject).
    public var errorMayHideInSuccess: Bool

    /// Creates a request.
    public init(
        service: AWSService, operation: String, method: String, endpoint: URL, path: String = "/", query: String = "",
        headers: [(name: String, value: String)] = [], body: [UInt8] = [], payloadSigning: PayloadSigning = .hashBody,
        resource: AWSResource? = nil, logMetadata: Logger.Metadata = [:], errorMayHideInSuccess: Bool = false
    ) {
        self.service = service
        self.operation = operation
        self.method = method
        self.endpoint = endpoint
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.payloadSigning = payloadSigning
        self.resource = resource
        self.logMetadata = logMetadata
        self.errorMayHideInSuccess = errorMayHideInSuccess
    }

    /// The path sent on the wire: the endpoint's base path followed by ``path``.
    public var wirePath: String {
        var base = endpoint.path(percentEncoded: true)
        while base.hasSuffix("/") { base.removeLast() }
        let tail = path.hasPrefix("/") ? path : "/" + path
        return base + tail
    }

    /// The full URL, built from the already-encoded path and query so that they are sent exactly as signed.
    public func url() throws -> URL {
        var origin = "\(endpoint.scheme ?? "https")://\(endpoint.host(percentEncoded: true) ?? "")"
        if let port = endpoint.port { origin += ":\(port)" }
        let text = origin + wirePath + (query.isEmpty ? "" : "?" + query)
        guard let url = URL(string: text), url.path(percentEncoded: true) == wirePath,
            (url.query(percentEncoded: true) ?? "") == query
        else {
            throw AWSError.invalidRequest(
                service, operation: operation, reason: "cannot build a URL with path '\(wirePath)' and query '\(query)'", resource: resource)
        }
        return url
    }

    /// The Host header value for the URL: the host, plus ":port" when the URL names a non-default port.
    static func hostHeader(for url: URL) -> String {
        var host = url.host(percentEncoded: true) ?? ""
        if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }  // IPv6 literal
        if let port = url.port {
            let isDefault = (url.scheme == "http" && port == 80) || (url.scheme == "https" && port == 443)
            if !isDefault { host += ":\(port)" }
        }
        return host
    }
}
