import AWSSigV4
import Foundation
import Testing

/// The canonicalization rules, each on its own, through the public stages.
@Suite("Canonicalization")
struct CanonicalizationTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")
    static let standard = SigV4Signer(credentials: credentials, region: "us-east-1", service: "dynamodb")
    static let s3 = SigV4Signer(credentials: credentials, region: "us-east-1", service: "s3", options: .s3)
    static let date = Date(timeIntervalSince1970: 1_700_000_000)

    /// The lines of the canonical request of `request`.
    static func lines(_ signer: SigV4Signer, _ request: SigV4Request, payload: SigV4Payload = .bytes([])) -> [String] {
        signer.canonicalRequest(request, payloadHash: payload.payloadHash, date: date)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static func request(path: String = "/", query: String = "", headers: [(name: String, value: String)] = []) -> SigV4Request {
        SigV4Request(method: "GET", path: path, query: query, headers: [("Host", "example.com")] + headers)
    }

    // MARK: URI encoding

    @Test("awsURIEncode keeps only the unreserved characters, in uppercase hex")
    func uriEncoding() {
        let unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"
        #expect(awsURIEncode(unreserved, encodeSlash: true) == unreserved)
        #expect(awsURIEncode("a b+c*d=e&f%g", encodeSlash: true) == "a%20b%2Bc%2Ad%3De%26f%25g")
        #expect(awsURIEncode("/a/b c/", encodeSlash: false) == "/a/b%20c/")
        #expect(awsURIEncode("/a/b c/", encodeSlash: true) == "%2Fa%2Fb%20c%2F")
        #expect(awsURIEncode("ሴ", encodeSlash: true) == "%E1%88%B4")
        #expect(awsURIEncode("USER#123:!'()", encodeSlash: true) == "USER%23123%3A%21%27%28%29")
        #expect(awsURIEncode("", encodeSlash: true) == "")
    }

    // MARK: Path

    @Test(
        "general services: the path is normalized, then encoded once more",
        arguments: [
            ("", "/"), ("/", "/"), ("//", "/"), ("/./", "/"), ("/a/..", "/"), ("/../..", "/"), ("/a/./b", "/a/b"),
            ("//a//b//", "/a/b/"), ("/a/b/..", "/a/"), ("/a/b/.", "/a/b/"), ("/a/../../b", "/b"),
            ("/a%20b/c", "/a%2520b/c"), ("/a b", "/a%20b"), ("/a%2Fb", "/a%252Fb"), ("/ሴ", "/%E1%88%B4"),
            ("/%2E%2E/x", "/%252E%252E/x"),
        ])
    func standardPath(path: String, canonical: String) {
        #expect(Self.lines(Self.standard, Self.request(path: path))[1] == canonical)
    }

    @Test(
        "S3: the path is used as given",
        arguments: [
            ("/examplebucket/2024/01/15/USER%23123.json.gz", "/examplebucket/2024/01/15/USER%23123.json.gz"),
            ("/b/a/../c//d/./e", "/b/a/../c//d/./e"), ("/b/a%20b", "/b/a%20b"), ("", "/"), ("/", "/"),
        ])
    func s3Path(path: String, canonical: String) {
        #expect(Self.lines(Self.s3, Self.request(path: path))[1] == canonical)
    }

    @Test("the two path options act independently")
    func pathOptions() {
        let normalizeOnly = SigV4Signer(
            credentials: Self.credentials, region: "r", service: "s",
            options: .init(doubleEncodePath: false, normalizePath: true))
        let encodeOnly = SigV4Signer(
            credentials: Self.credentials, region: "r", service: "s",
            options: .init(doubleEncodePath: true, normalizePath: false))
        #expect(Self.lines(normalizeOnly, Self.request(path: "/a//b/../c%20d"))[1] == "/a/c%20d")
        #expect(Self.lines(encodeOnly, Self.request(path: "/a//b/../c%20d"))[1] == "/a//b/../c%2520d")
    }

    // MARK: Query

    @Test(
        "the query is decoded, AWS-encoded and sorted by name, then value",
        arguments: [
            ("", ""), ("lifecycle", "lifecycle="), ("b=2&a=1", "a=1&b=2"), ("a=2&a=1&a=10", "a=1&a=10&a=2"),
            ("Param-3=x&Param=y", "Param=y&Param-3=x"), ("prefix=a/b", "prefix=a%2Fb"), ("k=a+b", "k=a%2Bb"),
            ("k=a%20b", "k=a%20b"), ("k=%2f%7e", "k=%2F~"), ("k=%zz%", "k=%25zz%25"), ("k=a=b", "k=a%3Db"),
            ("a&&b=", "a=&b="), ("?x=1", "x=1"), ("ሴ=bar", "%E1%88%B4=bar"), ("k=%FF", "k=%FF"),
            ("list-type=2&prefix=2024%2F01%2F&continuation-token=1%2Fabc%3D%3D",
             "continuation-token=1%2Fabc%3D%3D&list-type=2&prefix=2024%2F01%2F"),
        ])
    func query(query: String, canonical: String) {
        #expect(Self.lines(Self.standard, Self.request(query: query))[2] == canonical)
        #expect(Self.lines(Self.s3, Self.request(query: query))[2] == canonical)
    }

    // MARK: Headers

    @Test("header names are lowercased and sorted; values trimmed, inner whitespace and folded lines collapsed")
    func headers() {
        let lines = Self.lines(
            Self.standard,
            Self.request(headers: [
                ("X-Amz-Target", "  DynamoDB_20120810.PutItem "), ("Content-Type", "application/x-amz-json-1.0"),
                ("My-Header", "a   b\t\tc"), ("Folded", "one\r\n  two\n\tthree"), ("my-header", "second"),
                ("Empty", ""),
            ]))
        #expect(
            lines == [
                "GET", "/", "",
                "content-type:application/x-amz-json-1.0",
                "empty:",
                "folded:one two three",
                "host:example.com",
                "my-header:a b c,second",
                "x-amz-date:20231114T221320Z",
                "x-amz-target:DynamoDB_20120810.PutItem",
                "",
                "content-type;empty;folded;host;my-header;x-amz-date;x-amz-target",
                SigV4Payload.emptySHA256Hex,
            ])
    }

    @Test("headers that clients and proxies rewrite are not signed")
    func unsignedHeaders() {
        var request = Self.request(headers: [
            ("User-Agent", "archiver/1.0"), ("Connection", "keep-alive"), ("X-Amzn-Trace-Id", "Root=1"),
            ("Authorization", "stale"),
        ])
        Self.standard.sign(&request, payload: .bytes([]), date: Self.date)
        #expect(request.headerValue("Authorization")!.contains("SignedHeaders=host;x-amz-date,"))
        #expect(request.headerValue("User-Agent") == "archiver/1.0")  // still sent
        #expect(request.headers.filter { $0.name.lowercased() == "authorization" }.count == 1)
    }

    // MARK: Payload and S3 headers

    @Test("S3 signing adds x-amz-content-sha256 with the payload hash, or UNSIGNED-PAYLOAD")
    func s3ContentHash() {
        for (payload, hash) in [
            (SigV4Payload.bytes(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (.sha256Hex("0123abcd"), "0123abcd"), (.unsigned, "UNSIGNED-PAYLOAD"),
        ] {
            var request = Self.request(headers: [("x-amz-content-sha256", "stale")])
            Self.s3.sign(&request, payload: payload, date: Self.date)
            #expect(request.headers.filter { $0.name.lowercased() == "x-amz-content-sha256" }.map(\.value) == [hash])
            #expect(Self.lines(Self.s3, Self.request(), payload: payload).last == hash)
        }
        var standard = Self.request()
        Self.standard.sign(&standard, payload: .bytes([]), date: Self.date)
        #expect(standard.headerValue("x-amz-content-sha256") == nil)
    }

    @Test("a session token is sent and signed as X-Amz-Security-Token")
    func sessionToken() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret", sessionToken: "tok/en+="),
            region: "us-east-1", service: "s3", options: .s3)
        var request = Self.request()
        signer.sign(&request, payload: .unsigned, date: Self.date)
        #expect(request.headerValue("X-Amz-Security-Token") == "tok/en+=")
        #expect(request.headerValue("Authorization")!.contains("x-amz-security-token"))
        let query = signer.presignedQuery(Self.request(), expires: 900, date: Self.date)
        #expect(query.contains("X-Amz-Security-Token=tok%2Fen%2B%3D"))
    }

    // MARK: Presigning

    @Test("presigning keeps the request's own parameters and replaces earlier presigning ones")
    func presignKeepsParameters() {
        let request = Self.request(path: "/b/k", query: "versionId=3%2F4&X-Amz-Signature=old&X-Amz-Expires=1")
        let query = Self.s3.presignedQuery(request, expires: 300, date: Self.date)
        let names = query.split(separator: "&").map { String($0.split(separator: "=")[0]) }
        #expect(
            names == [
                "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
                "versionId", "X-Amz-Signature",
            ])
        #expect(query.contains("X-Amz-Expires=300&"))
        #expect(query.contains("versionId=3%2F4&"))
        #expect(!query.contains("old"))
        #expect(Self.s3.presignedQuery(request, expires: 300, date: Self.date) == query)
    }

    // MARK: Building a request from a URL

    @Test(
        "init(url:) takes the encoded path and query and adds Host with a port only when it is not the default",
        arguments: [
            ("https://examplebucket.s3.amazonaws.com/test.txt", "examplebucket.s3.amazonaws.com", "/test.txt", ""),
            ("https://h.example.com:443/a", "h.example.com", "/a", ""),
            ("http://h.example.com:80/a", "h.example.com", "/a", ""),
            ("http://127.0.0.1:5000/bucket/USER%23123.json.gz?uploads", "127.0.0.1:5000", "/bucket/USER%23123.json.gz", "uploads"),
            ("https://h.example.com:80/", "h.example.com:80", "/", ""),
            ("http://[::1]:8000/x?a=b%2Fc", "[::1]:8000", "/x", "a=b%2Fc"),
            ("http://localhost:4566", "localhost:4566", "", ""),
        ])
    func requestFromURL(url: String, host: String, path: String, query: String) {
        let request = SigV4Request(method: "GET", url: URL(string: url)!)
        #expect(request.headers.map(\.name) == ["Host"])
        #expect(request.headerValue("host") == host)
        #expect(request.path == path)
        #expect(request.query == query)
    }

    @Test("init(url:) leaves a Host header the caller gave alone")
    func requestFromURLKeepsHost() {
        let request = SigV4Request(
            method: "PUT", url: URL(string: "http://127.0.0.1:5000/b/k")!,
            headers: [("host", "b.s3.amazonaws.com"), ("Content-Length", "3")])
        #expect(request.headers.map(\.name) == ["host", "Content-Length"])
        #expect(request.headerValue("Host") == "b.s3.amazonaws.com")
    }
}
