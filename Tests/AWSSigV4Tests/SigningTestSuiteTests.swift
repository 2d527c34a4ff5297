import AWSSigV4
import Foundation
import Testing

/// Every case of the AWS signing test suite, each stage asserted on its own: the canonical request
/// from the request; the string to sign from the expected canonical request; the signature from the
/// expected string to sign; and the whole signed request, for header signing and for presigning.
@Suite(
    "AWS signing test suite",
    .enabled(if: SigningTestSuite.isAvailable, Comment(rawValue: SigningTestSuite.skipMessage))
)
struct SigningTestSuiteTests {
    @Test("the suite is found and has cases")
    func suiteHasCases() {
        #expect(SigningTestSuite.caseNames.count > 0, "no case folders in \(SigningTestSuite.directory.path)")
    }

    // MARK: Authorization header

    @Test("header: canonical request", arguments: SigningTestSuite.caseNames)
    func headerCanonicalRequest(_ name: String) throws {
        let test = try SigningTestCase(name)
        let canonical = test.signer.canonicalRequest(test.request, payloadHash: test.payload.payloadHash, date: try test.date)
        #expect(canonical == (try test.expected("header-canonical-request.txt")))
    }

    @Test("header: string to sign", arguments: SigningTestSuite.caseNames)
    func headerStringToSign(_ name: String) throws {
        let test = try SigningTestCase(name)
        let stringToSign = test.signer.stringToSign(
            canonicalRequest: try test.expected("header-canonical-request.txt"), date: try test.date)
        #expect(stringToSign == (try test.expected("header-string-to-sign.txt")))
    }

    @Test("header: signature", arguments: SigningTestSuite.caseNames)
    func headerSignature(_ name: String) throws {
        let test = try SigningTestCase(name)
        let signature = test.signer.signature(stringToSign: try test.expected("header-string-to-sign.txt"), date: try test.date)
        #expect(signature == (try test.expected("header-signature.txt")))
    }

    @Test("header: signed request", arguments: SigningTestSuite.caseNames)
    func headerSignedRequest(_ name: String) throws {
        let test = try SigningTestCase(name)
        var request = test.request
        test.signer.sign(&request, payload: test.payload, date: try test.date)
        let expected = RawHTTPRequest(parsing: try test.expected("header-signed-request.txt"))
        #expect(request.method == expected.method)
        #expect(request.path == expected.path)
        #expect(request.query == expected.query)
        #expect(request.headers.map { "\($0.name):\($0.value)" } == expected.headers.map { "\($0.name):\($0.value)" })
    }

    // MARK: Presigned (query string)

    @Test("query: canonical request", arguments: SigningTestSuite.caseNames)
    func queryCanonicalRequest(_ name: String) throws {
        let test = try SigningTestCase(name)
        let canonical = test.signer.presignedCanonicalRequest(
            test.request, expires: test.context.expirationInSeconds, date: try test.date, payload: test.payload)
        #expect(canonical == (try test.expected("query-canonical-request.txt")))
    }

    @Test("query: string to sign", arguments: SigningTestSuite.caseNames)
    func queryStringToSign(_ name: String) throws {
        let test = try SigningTestCase(name)
        let stringToSign = test.signer.stringToSign(
            canonicalRequest: try test.expected("query-canonical-request.txt"), date: try test.date)
        #expect(stringToSign == (try test.expected("query-string-to-sign.txt")))
    }

    @Test("query: signature", arguments: SigningTestSuite.caseNames)
    func querySignature(_ name: String) throws {
        let test = try SigningTestCase(name)
        let signature = test.signer.signature(stringToSign: try test.expected("query-string-to-sign.txt"), date: try test.date)
        #expect(signature == (try test.expected("query-signature.txt")))
    }

    @Test("query: presigned query", arguments: SigningTestSuite.caseNames)
    func queryPresigned(_ name: String) throws {
        let test = try SigningTestCase(name)
        let query = test.signer.presignedQuery(
            test.request, expires: test.context.expirationInSeconds, date: try test.date, payload: test.payload)
        let expected = RawHTTPRequest(parsing: try test.expected("query-signed-request.txt"))
        // The order of parameters on the wire is free; compare them decoded, as a server reads them.
        #expect(decodedParameters(query) == decodedParameters(expected.query))
        #expect(query.hasSuffix("&X-Amz-Signature=" + (try test.expected("query-signature.txt"))))
    }

    /// The parameters of a wire query, percent-decoded and sorted.
    private func decodedParameters(_ query: String) -> [String] {
        query.split(separator: "&").map { part in
            part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                .map { String($0).removingPercentEncoding ?? String($0) }
                .joined(separator: "=")
        }.sorted()
    }
}

/// Says, in the test output, when the suite could not be run.
@Test("AWS signing test suite: present or reported skipped")
func signingTestSuitePresence() {
    if !SigningTestSuite.isAvailable {
        print(SigningTestSuite.skipMessage)
        return
    }
    #expect(!SigningTestSuite.caseNames.isEmpty)
}
