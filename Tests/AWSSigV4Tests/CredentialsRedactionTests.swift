import AWSSigV4
import Foundation
import Testing

/// No printed form of credentials, or of what carries them, shows the secret or the session token.
@Suite("Credentials redaction")
struct CredentialsRedactionTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN//////////wEaDEXAMPLE"
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: secret, sessionToken: token)

    /// Every way a value is commonly turned into text.
    static func renderings(of value: some CustomStringConvertible & CustomDebugStringConvertible) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return [
            value.description, value.debugDescription, String(describing: value), String(reflecting: value), "\(value)",
            dumped, "\([value])", "\(Optional(value) as Any)",
        ]
    }

    @Test("description, debugDescription, interpolation and dump of credentials hide the secret and the token")
    func credentialsRenderings() {
        for text in Self.renderings(of: Self.credentials) {
            #expect(!text.contains(Self.secret), "secret in: \(text)")
            #expect(!text.contains(Self.token), "token in: \(text)")
            #expect(!text.contains("wJalr"), "part of the secret in: \(text)")
        }
        #expect(Self.credentials.description == "AWSCredentials(accessKeyID: AKID…MPLE, secret: <redacted>, sessionToken: <redacted>)")
    }

    @Test("credentials without a token say nothing about one")
    func withoutToken() {
        let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: Self.secret)
        #expect("\(credentials)" == "AWSCredentials(accessKeyID: AKIA…MPLE, secret: <redacted>)")
    }

    @Test("a signer and a signed request print without the secret, the token or the signature")
    func signerAndSignedRequest() {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "dynamodb")
        var request = SigV4Request(method: "POST", path: "/", headers: [("Host", "dynamodb.us-east-1.amazonaws.com")])
        signer.sign(&request, payload: .bytes(Array("{}".utf8)), date: Date(timeIntervalSince1970: 1_700_000_000))
        let signature = String(request.headerValue("Authorization")!.split(separator: "=").last!)

        var signerDump = ""
        dump(signer, to: &signerDump)
        for text in [String(describing: signer), String(reflecting: signer), "\(signer)", signerDump] {
            #expect(!text.contains(Self.secret) && !text.contains(Self.token), "credential in: \(text)")
        }
        for text in Self.renderings(of: request) {
            #expect(!text.contains(Self.secret) && !text.contains(Self.token), "credential in: \(text)")
            #expect(!text.contains(signature), "signature in: \(text)")
        }
        #expect(request.headerValue("X-Amz-Security-Token") == Self.token)  // still sent, just not printed
    }

    @Test("a request carrying a presigned query prints without the token or the signature")
    func presignedQueryRedacted() {
        let signer = SigV4Signer(credentials: Self.credentials, region: "us-east-1", service: "s3", options: .s3)
        let unsigned = SigV4Request(method: "GET", url: URL(string: "https://b.s3.amazonaws.com/k")!)
        let query = signer.presignedQuery(unsigned, expires: 60, date: Date(timeIntervalSince1970: 1_700_000_000))
        let request = SigV4Request(method: "GET", path: "/k", query: query, headers: unsigned.headers)
        let signature = String(query.split(separator: "=").last!)
        for text in Self.renderings(of: request) {
            #expect(!text.contains(awsURIEncode(Self.token, encodeSlash: true)), "token in: \(text)")
            #expect(!text.contains(signature), "signature in: \(text)")
        }
    }
}
