import Foundation
import Logging

/// The AWS JSON protocol shared by DynamoDB, DynamoDB Streams and SQS (1.0) and EventBridge (1.1):
/// `POST /` with `X-Amz-Target: <prefix>.<Operation>` and `Content-Type: application/x-amz-json-<version>`.
struct AWSJSONProtocol: Sendable {
    let http: AWSHTTPClient
    let service: AWSService
    let endpoint: URL
    let targetPrefix: String
    /// The protocol version in the content type: "1.0" or "1.1".
    var version = "1.0"

    /// Calls `operation` with a JSON body and returns the successful response.
    func call(_ operation: String, body: [UInt8], resource: AWSResource?, metadata: Logger.Metadata = [:]) async throws -> HTTPResponse {
        let request = AWSRequest(
            service: service, operation: operation, method: "POST", endpoint: endpoint, path: "/",
            headers: [("Content-Type", "application/x-amz-json-\(version)"), ("X-Amz-Target", "\(targetPrefix).\(operation)")],
            body: body, payloadSigning: .hashBody, resource: resource, logMetadata: metadata)
        return try await http.send(request)
    }

    /// Calls `operation` and decodes the response into `T`.
    func call<T: Decodable>(
        _ operation: String, body: [UInt8], resource: AWSResource?, as type: T.Type, metadata: Logger.Metadata = [:]
    ) async throws -> T {
        let response = try await call(operation, body: body, resource: resource, metadata: metadata)
        return try decode(T.self, from: response, operation: operation, resource: resource)
    }

    func decode<T: Decodable>(_ type: T.Type, from response: HTTPResponse, operation: String, resource: AWSResource?) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(response.body))
        } catch {
            throw AWSError.invalidResponse(
                service, operation: operation, reason: "cannot decode the response: \(error)",
                requestID: response.header("x-amzn-requestid"), resource: resource)
        }
    }
}

/// Builds a JSON object member by member; raw members are spliced in byte for byte.
struct JSONObjectWriter {
    private(set) var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var first = true

    private mutating func key(_ name: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        bytes += RawJSON.quoted(name)
        bytes.append(UInt8(ascii: ":"))
    }

    /// A string member.
    mutating func string(_ name: String, _ value: String) {
        key(name)
        bytes += RawJSON.quoted(value)
    }

    /// An integer member.
    mutating func int(_ name: String, _ value: Int) {
        key(name)
        bytes += Array(String(value).utf8)
    }

    /// A boolean member.
    mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        bytes += Array((value ? "true" : "false").utf8)
    }

    /// A member whose value is already JSON.
    mutating func raw(_ name: String, _ json: [UInt8]) {
        key(name)
        bytes += json
    }

    /// A string-to-string map member.
    mutating func stringMap(_ name: String, _ map: [(String, String)]) {
        var inner = JSONObjectWriter()
        for (k, v) in map { inner.string(k, v) }
        raw(name, inner.finished())
    }

    /// The finished object.
    func finished() -> [UInt8] { bytes + [UInt8(ascii: "}")] }
}
