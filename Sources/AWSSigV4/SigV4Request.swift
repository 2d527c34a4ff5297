import Foundation

/// An HTTP request as it will be sent, in the parts the signer reads: method, path, query and headers.
/// The body is passed to the signer separately (as a ``SigV4Payload``).
///
/// Printing a request (`description`, `debugDescription`, interpolation, `dump`) redacts the values of
/// the `Authorization` and `X-Amz-Security-Token` headers and of the `X-Amz-Security-Token` and
/// `X-Amz-Signature` query parameters.
public struct SigV4Request: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The HTTP method, e.g. `GET` or `PUT`.
    public var method: String
    /// The path as sent on the wire, already percent-encoded,
    /// e.g. `/my-bucket/2024/01/15/USER%23123.json.gz`. An empty path means `/`.
    ///
    /// Encode object keys with `awsURIEncode(key, encodeSlash: false)` so that the path on the wire and
    /// the one S3 reconstructs agree.
    public var path: String
    /// The query as sent on the wire, without the leading `?`; empty when there is none.
    public var query: String
    /// The headers as sent, in order. Must contain `Host`. Names are matched case-insensitively.
    public var headers: [(name: String, value: String)]

    /// Creates a request from its wire parts.
    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }

    /// Creates a request for `url`: the path and query are the URL's percent-encoded ones, and a `Host`
    /// header is added from the URL (its host, plus `:port` only when the URL names a port other than
    /// the scheme's default, 80 for http and 443 for https) unless `headers` already has one.
    public init(method: String, url: URL, headers: [(name: String, value: String)] = []) {
        let components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        self.method = method
        self.path = components?.percentEncodedPath ?? ""
        self.query = components?.percentEncodedQuery ?? ""
        self.headers = headers
        if !headers.contains(where: { $0.name.lowercased() == "host" }), let host = Self.hostHeader(for: components) {
            self.headers.insert((name: "Host", value: host), at: 0)
        }
    }

    /// The `Host` header value for a URL: host (IPv6 literals in brackets), and `:port` when the
    /// port is not the scheme's default.
    private static func hostHeader(for components: URLComponents?) -> String? {
        guard let components, var host = components.percentEncodedHost, !host.isEmpty else { return nil }
        if host.contains(":") && !host.hasPrefix("[") { host = "[\(host)]" }
        guard let port = components.port else { return host }
        let defaultPort: Int? =
            switch components.scheme?.lowercased() {
            case "http": 80
            case "https": 443
            default: nil
            }
        return port == defaultPort ? host : "\(host):\(port)"
    }

    /// The value of the first header named `name` (case-insensitively), if any.
    public func headerValue(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first(where: { $0.name.lowercased() == wanted })?.value
    }

    /// Header names whose values are never printed.
    private static let redactedHeaderNames: Set<String> = ["authorization", "x-amz-security-token"]
    /// Query parameter names whose values are never printed.
    private static let redactedQueryNames: Set<String> = ["X-Amz-Security-Token", "X-Amz-Signature"]

    /// The headers with credential-bearing values replaced by `<redacted>`.
    private var redactedHeaders: [(name: String, value: String)] {
        headers.map { header in
            Self.redactedHeaderNames.contains(header.name.lowercased()) ? (header.name, "<redacted>") : header
        }
    }

    /// The query with credential-bearing parameter values replaced by `<redacted>`.
    private var redactedQuery: String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { part in
            let name = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            return Self.redactedQueryNames.contains(String(decoding: percentDecode(name), as: UTF8.self))
                ? "\(name)=<redacted>" : String(part)
        }.joined(separator: "&")
    }

    /// The request line and headers, with credential-bearing values redacted.
    public var description: String {
        var text = "\(method) \(path.isEmpty ? "/" : path)\(query.isEmpty ? "" : "?" + redactedQuery)"
        for (name, value) in redactedHeaders {
            text += "\n\(name): \(value)"
        }
        return text
    }

    /// The same as ``description``.
    public var debugDescription: String { description }

    /// A mirror with credential-bearing values redacted, so `dump` leaks nothing.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: ["method": method, "path": path, "query": redactedQuery, "headers": redactedHeaders],
            displayStyle: .struct
        )
    }
}
