import AWSSigV4
import Foundation

/// The AWS signing test suite (the aws-c-auth `v4` cases), read in place from
/// `<package root>/../shared/aws-signing-test-suite/v4`. Never copied into the project.
enum SigningTestSuite {
    /// The folder holding one sub-folder per case.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // AWSSigV4Tests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("../shared/aws-signing-test-suite/v4")
        .standardizedFileURL

    /// Whether the suite is on this machine.
    static let isAvailable: Bool = {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }()

    /// The names of the case folders (those with a `context.json`), sorted; empty when the suite is absent.
    static let caseNames: [String] = {
        guard isAvailable, let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            return []
        }
        return names.filter {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).appendingPathComponent("context.json").path)
        }.sorted()
    }()

    /// The message shown when the suite is absent.
    static let skipMessage = "skipped: AWS signing test suite not found at \(directory.path)"
}

/// A raw HTTP request as written in a case's `request.txt` (or `*-signed-request.txt`).
struct RawHTTPRequest {
    var method: String
    var path: String
    var query: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// Parses the request line (the target may hold spaces), the headers (a line starting with
    /// whitespace continues the previous header's value) and the body after the empty line.
    init(parsing text: String) {
        var lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        let requestLine = lines.removeFirst()
        let firstSpace = requestLine.firstIndex(of: " ")!
        let lastSpace = requestLine.lastIndex(of: " ")!
        method = String(requestLine[..<firstSpace])
        let target = requestLine[requestLine.index(after: firstSpace)..<lastSpace]
        if let mark = target.firstIndex(of: "?") {
            path = String(target[..<mark])
            query = String(target[target.index(after: mark)...])
        } else {
            path = String(target)
            query = ""
        }
        headers = []
        var index = 0
        while index < lines.count, !lines[index].isEmpty {
            let line = lines[index]
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
            } else {
                let colon = line.firstIndex(of: ":")!
                headers.append((name: String(line[..<colon]), value: String(line[line.index(after: colon)...])))
            }
            index += 1
        }
        body = index < lines.count ? Array(lines[(index + 1)...].joined(separator: "\n").utf8) : []
    }
}

/// One case of the suite: its context, request and expected outputs.
struct SigningTestCase {
    /// `context.json`.
    struct Context: Decodable {
        struct Credentials: Decodable {
            var accessKeyId: String
            var secretAccessKey: String
            var token: String?
        }
        var credentials: Credentials
        var expirationInSeconds: Int
        var normalize: Bool
        var region: String
        var service: String
        var signBody: Bool
        var timestamp: String
        var omitSessionToken: Bool?
    }

    let name: String
    let context: Context
    let raw: RawHTTPRequest

    init(_ name: String) throws {
        self.name = name
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        context = try decoder.decode(Context.self, from: Data(contentsOf: Self.file(name, "context.json")))
        raw = RawHTTPRequest(parsing: try Self.text(name, "request.txt"))
    }

    static func file(_ name: String, _ file: String) -> URL {
        SigningTestSuite.directory.appendingPathComponent(name).appendingPathComponent(file)
    }

    static func text(_ name: String, _ file: String) throws -> String {
        String(decoding: try Data(contentsOf: Self.file(name, file)), as: UTF8.self)
    }

    /// The content of one of the case's expected-output files.
    func expected(_ file: String) throws -> String {
        try Self.text(name, file)
    }

    /// The signing time.
    var date: Date {
        get throws {
            guard let date = ISO8601DateFormatter().date(from: context.timestamp) else {
                throw CocoaError(.formatting)
            }
            return date
        }
    }

    /// A signer set up as the context says: the general rules (double-encoded path), normalization as
    /// given, `x-amz-content-sha256` when the body is signed, the session token left out when asked.
    var signer: SigV4Signer {
        SigV4Signer(
            credentials: AWSCredentials(
                accessKeyID: context.credentials.accessKeyId,
                secretAccessKey: context.credentials.secretAccessKey,
                sessionToken: context.credentials.token
            ),
            region: context.region,
            service: context.service,
            options: .init(
                doubleEncodePath: true,
                normalizePath: context.normalize,
                addContentSHA256Header: context.signBody,
                omitSessionTokenFromSignature: context.omitSessionToken ?? false
            )
        )
    }

    /// The request to sign, exactly as written in `request.txt`.
    var request: SigV4Request {
        SigV4Request(method: raw.method, path: raw.path, query: raw.query, headers: raw.headers)
    }

    /// The body.
    var payload: SigV4Payload { .bytes(raw.body) }
}
