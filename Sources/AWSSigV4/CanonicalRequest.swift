import Foundation

extension SigV4Signer {
    /// Header names never signed: `Authorization` (it carries the signature) and headers that proxies
    /// and HTTP clients add, drop or rewrite on the way (the set aws-c-auth skips).
    public static let unsignedHeaderNames: Set<String> = [
        "authorization", "connection", "sec-websocket-key", "sec-websocket-protocol", "sec-websocket-version",
        "upgrade", "user-agent", "x-amzn-trace-id",
    ]

    /// The canonical request of `request` as ``sign(_:payload:date:)`` would sign it: with the
    /// `X-Amz-Date` (from `date`), `X-Amz-Security-Token` and, for S3, `x-amz-content-sha256` headers
    /// that signing adds, whether or not `request` has them yet.
    ///
    /// Six lines: method, canonical URI, canonical query, canonical headers (each `name:value` line,
    /// then an empty line), signed headers, payload hash.
    public func canonicalRequest(_ request: SigV4Request, payloadHash: String, date: Date) -> String {
        var prepared = request
        prepared.headers = headersForSigning(request.headers, payloadHash: payloadHash, date: date)
        return canonicalForm(prepared, canonicalQuery: Self.canonicalQuery(prepared.query), payloadHash: payloadHash)
            .request
    }

    /// A canonical request and the signed-headers list that goes with it.
    struct CanonicalForm {
        /// The canonical request text.
        var request: String
        /// The `;`-separated, sorted, lowercase names of the signed headers.
        var signedHeaders: String
    }

    /// The canonical form of `request` taken as is (no headers added), with an already canonical query.
    func canonicalForm(_ request: SigV4Request, canonicalQuery: String, payloadHash: String) -> CanonicalForm {
        let headers = canonicalHeaders(request.headers)
        let text = [
            request.method, canonicalURI(request.path), canonicalQuery, headers.block, headers.signedHeaders,
            payloadHash,
        ].joined(separator: "\n")
        return CanonicalForm(request: text, signedHeaders: headers.signedHeaders)
    }

    /// The canonical URI of a wire path: normalized when ``Options/normalizePath`` is set, encoded once
    /// more when ``Options/doubleEncodePath`` is set; `/` for an empty path.
    func canonicalURI(_ path: String) -> String {
        var uri = path.hasPrefix("/") ? path : "/" + path
        if options.normalizePath { uri = Self.normalizedPath(uri) }
        if options.doubleEncodePath { uri = awsURIEncode(uri, encodeSlash: false) }
        return uri
    }

    /// `path` with `.` and `..` segments resolved (`..` never climbs above the root) and empty
    /// segments removed; it keeps a trailing `/` when the path ends with one or with a dot segment.
    /// Always starts with `/`.
    static func normalizedPath(_ path: String) -> String {
        var segments: [Substring] = []
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for part in parts {
            switch part {
            case "", ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(part)
            }
        }
        guard !segments.isEmpty else { return "/" }
        let last = parts.last ?? ""
        let trailingSlash = last.isEmpty || last == "." || last == ".."
        return "/" + segments.joined(separator: "/") + (trailingSlash ? "/" : "")
    }

    /// The canonical query of a wire query: each name and value percent-decoded, then AWS-URI-encoded
    /// (``awsURIEncode(_:encodeSlash:)`` with `/` encoded), sorted by name then value, joined as
    /// `name=value` with `&`; a parameter without `=` becomes `name=`.
    static func canonicalQuery(_ query: String) -> String {
        canonicalQuery(queryParameters(query))
    }

    /// The decoded name and value bytes of each parameter of a wire query (empty parts skipped).
    static func queryParameters(_ query: String) -> [(name: [UInt8], value: [UInt8])] {
        let query = query.hasPrefix("?") ? query.dropFirst() : Substring(query)
        return query.split(separator: "&").map { part in
            let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (name: percentDecode(pieces[0]), value: pieces.count > 1 ? percentDecode(pieces[1]) : [])
        }
    }

    /// The canonical query of decoded parameters.
    static func canonicalQuery(_ parameters: [(name: [UInt8], value: [UInt8])]) -> String {
        parameters
            .map { (name: awsURIEncode(bytes: $0.name, encodeSlash: true), value: awsURIEncode(bytes: $0.value, encodeSlash: true)) }
            .sorted { lhs, rhs in
                lhs.name != rhs.name
                    ? lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8)
                    : lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
            }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "&")
    }

    /// The canonical header block (`name:value\n` per signed header, names lowercase and sorted, values
    /// of repeated headers joined with `,` in request order) and the signed-headers list.
    func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (block: String, signedHeaders: String) {
        var valuesByName: [String: [String]] = [:]
        for header in headers {
            let name = header.name.lowercased().trimmingCharacters(in: .whitespaces)
            if Self.unsignedHeaderNames.contains(name) { continue }
            if options.omitSessionTokenFromSignature && name == "x-amz-security-token" { continue }
            valuesByName[name, default: []].append(Self.canonicalHeaderValue(header.value))
        }
        let names = valuesByName.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        var block = ""
        for name in names {
            block += "\(name):\(valuesByName[name]!.joined(separator: ","))\n"
        }
        return (block, names.joined(separator: ";"))
    }

    /// A header value trimmed, with every run of whitespace inside it (spaces, tabs, and the line
    /// breaks of a folded multi-line value) collapsed to one space.
    static func canonicalHeaderValue(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
            .joined(separator: " ")
    }
}
