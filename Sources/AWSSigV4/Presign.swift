import Foundation

extension SigV4Signer {
    /// The query parameters that presigning owns; any already in the request's query are replaced.
    static let presignParameterNames: Set<String> = [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
        "X-Amz-Security-Token", "X-Amz-Signature",
    ]

    /// The full query string of a presigned request (without `?`): the request's own parameters plus
    /// `X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders`,
    /// `X-Amz-Security-Token` (when the credentials carry a token) and `X-Amz-Signature`.
    ///
    /// The parameters come back in canonical form (AWS-URI-encoded and sorted), which is also a valid
    /// wire form; send it with the request's path and headers: every header of the request (but
    /// ``unsignedHeaderNames``) is signed, so the client must send them unchanged.
    ///
    /// - Parameters:
    ///   - expires: seconds the URL stays valid, 1…604800 (seven days) for AWS.
    ///   - payload: the body; `.unsigned` (`UNSIGNED-PAYLOAD`) is what S3 expects of presigned URLs.
    public func presignedQuery(
        _ request: SigV4Request, expires: Int, date: Date, payload: SigV4Payload = .unsigned
    ) -> String {
        let presigned = presignedForm(request, expires: expires, date: date, payloadHash: payload.payloadHash)
        let signature = signature(stringToSign: stringToSign(canonicalRequest: presigned.form.request, date: date), date: date)
        var query = presigned.canonicalQuery
        if options.omitSessionTokenFromSignature, let token = credentials.sessionToken {
            query += "&X-Amz-Security-Token=" + awsURIEncode(token, encodeSlash: true)
        }
        return query + "&X-Amz-Signature=" + signature
    }

    /// The canonical request that ``presignedQuery(_:expires:date:payload:)`` signs: the query holds the
    /// `X-Amz-*` parameters (but the signature) and the headers are the request's own.
    public func presignedCanonicalRequest(
        _ request: SigV4Request, expires: Int, date: Date, payload: SigV4Payload = .unsigned
    ) -> String {
        presignedForm(request, expires: expires, date: date, payloadHash: payload.payloadHash).form.request
    }

    /// The canonical form of a presigned request and its canonical query (the wire query but the signature).
    private func presignedForm(
        _ request: SigV4Request, expires: Int, date: Date, payloadHash: String
    ) -> (form: CanonicalForm, canonicalQuery: String) {
        var signed = request
        signed.headers = request.headers.filter {
            !["authorization", "x-amz-date", "x-amz-security-token"].contains($0.name.lowercased())
        }
        var parameters = Self.queryParameters(request.query).filter {
            !Self.presignParameterNames.contains(String(decoding: $0.name, as: UTF8.self))
        }
        var added = [
            ("X-Amz-Algorithm", Self.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyID)/\(credentialScope(date: date))"),
            ("X-Amz-Date", SigV4Date.timestamp(date)),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", canonicalHeaders(signed.headers).signedHeaders),
        ]
        if let token = credentials.sessionToken, !options.omitSessionTokenFromSignature {
            added.append(("X-Amz-Security-Token", token))
        }
        parameters += added.map { (name: Array($0.0.utf8), value: Array($0.1.utf8)) }
        let canonicalQuery = Self.canonicalQuery(parameters)
        return (canonicalForm(signed, canonicalQuery: canonicalQuery, payloadHash: payloadHash), canonicalQuery)
    }
}
