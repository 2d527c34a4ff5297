import AWSSigV4
import Foundation
import Testing

/// The worked examples AWS publishes for S3 in the Amazon S3 API Reference:
/// "Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk"
/// (sig-v4-header-based-auth, "Examples: Signature Calculations") and
/// "Authenticating Requests: Using Query Parameters" (sigv4-query-string-auth, the presigned URL).
/// All use bucket `examplebucket`, 2013-05-24T00:00:00Z, us-east-1 and the documentation's example keys.
@Suite("S3 documentation examples")
struct S3DocumentationExampleTests {
    static let date = Date(timeIntervalSince1970: 1_369_353_600)  // Fri, 24 May 2013 00:00:00 GMT
    static let signer = SigV4Signer(
        credentials: AWSCredentials(
            accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1",
        service: "s3",
        options: .s3
    )
    static let host = (name: "Host", value: "examplebucket.s3.amazonaws.com")

    /// One documented example: the request, and what the documentation shows for each stage.
    struct Example: CustomTestStringConvertible, Sendable {
        var title: String
        var request: SigV4Request
        var payload: SigV4Payload
        var canonicalRequest: String
        var stringToSign: String
        var signature: String
        var signedHeaders: String
        var testDescription: String { title }
    }

    static let examples: [Example] = [
        Example(
            title: "GET Object (Range)",
            request: SigV4Request(method: "GET", path: "/test.txt", headers: [host, ("Range", "bytes=0-9")]),
            payload: .bytes([]),
            canonicalRequest: """
                GET
                /test.txt

                host:examplebucket.s3.amazonaws.com
                range:bytes=0-9
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;range;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            stringToSign: """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972
                """,
            signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            signedHeaders: "host;range;x-amz-content-sha256;x-amz-date"
        ),
        Example(
            title: "PUT Object",
            request: SigV4Request(
                method: "PUT", path: "/test%24file.text",
                headers: [
                    host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                ]),
            payload: .bytes(Array("Welcome to Amazon S3.".utf8)),
            canonicalRequest: """
                PUT
                /test%24file.text

                date:Fri, 24 May 2013 00:00:00 GMT
                host:examplebucket.s3.amazonaws.com
                x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
                x-amz-date:20130524T000000Z
                x-amz-storage-class:REDUCED_REDUNDANCY

                date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class
                44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072
                """,
            stringToSign: """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d
                """,
            signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class"
        ),
        Example(
            title: "GET Bucket Lifecycle",
            request: SigV4Request(method: "GET", path: "/", query: "lifecycle", headers: [host]),
            payload: .bytes([]),
            canonicalRequest: """
                GET
                /
                lifecycle=
                host:examplebucket.s3.amazonaws.com
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            stringToSign: """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca
                """,
            signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            signedHeaders: "host;x-amz-content-sha256;x-amz-date"
        ),
        Example(
            title: "GET Bucket (List Objects)",
            request: SigV4Request(method: "GET", path: "/", query: "max-keys=2&prefix=J", headers: [host]),
            payload: .bytes([]),
            canonicalRequest: """
                GET
                /
                max-keys=2&prefix=J
                host:examplebucket.s3.amazonaws.com
                x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                x-amz-date:20130524T000000Z

                host;x-amz-content-sha256;x-amz-date
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
                """,
            stringToSign: """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7
                """,
            signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            signedHeaders: "host;x-amz-content-sha256;x-amz-date"
        ),
    ]

    @Test("canonical request", arguments: examples)
    func canonicalRequest(_ example: Example) {
        let canonical = Self.signer.canonicalRequest(
            example.request, payloadHash: example.payload.payloadHash, date: Self.date)
        #expect(canonical == example.canonicalRequest)
    }

    @Test("string to sign", arguments: examples)
    func stringToSign(_ example: Example) {
        #expect(Self.signer.stringToSign(canonicalRequest: example.canonicalRequest, date: Self.date) == example.stringToSign)
    }

    @Test("signature", arguments: examples)
    func signature(_ example: Example) {
        #expect(Self.signer.signature(stringToSign: example.stringToSign, date: Self.date) == example.signature)
    }

    @Test("signed request headers", arguments: examples)
    func signedRequest(_ example: Example) {
        var request = example.request
        Self.signer.sign(&request, payload: example.payload, date: Self.date)
        #expect(request.headerValue("X-Amz-Date") == "20130524T000000Z")
        #expect(request.headerValue("x-amz-content-sha256") == example.payload.payloadHash)
        #expect(request.headerValue("X-Amz-Security-Token") == nil)
        #expect(
            request.headerValue("Authorization")
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=\(example.signedHeaders), Signature=\(example.signature)")
    }

    @Test("the PUT example's payload hash and key encoding")
    func putObjectPayloadAndPath() {
        #expect(
            SigV4Payload.bytes(Array("Welcome to Amazon S3.".utf8)).payloadHash
                == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(awsURIEncode("/test$file.text", encodeSlash: false) == "/test%24file.text")
    }

    // MARK: Presigned URL (sigv4-query-string-auth)

    static let presignedRequest = SigV4Request(method: "GET", url: URL(string: "https://examplebucket.s3.amazonaws.com/test.txt")!)

    @Test("presigned URL: canonical request")
    func presignedCanonicalRequest() {
        let canonical = Self.signer.presignedCanonicalRequest(Self.presignedRequest, expires: 86400, date: Self.date)
        #expect(
            canonical == """
                GET
                /test.txt
                X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
                host:examplebucket.s3.amazonaws.com

                host
                UNSIGNED-PAYLOAD
                """)
    }

    @Test("presigned URL: string to sign")
    func presignedStringToSign() {
        let canonical = Self.signer.presignedCanonicalRequest(Self.presignedRequest, expires: 86400, date: Self.date)
        #expect(
            Self.signer.stringToSign(canonicalRequest: canonical, date: Self.date) == """
                AWS4-HMAC-SHA256
                20130524T000000Z
                20130524/us-east-1/s3/aws4_request
                3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04
                """)
    }

    @Test("presigned URL: signature and the whole URL")
    func presignedURL() {
        let query = Self.signer.presignedQuery(Self.presignedRequest, expires: 86400, date: Self.date)
        #expect(
            "https://examplebucket.s3.amazonaws.com/test.txt?\(query)"
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
    }
}
