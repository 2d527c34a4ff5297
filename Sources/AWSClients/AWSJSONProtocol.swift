import Foundation
import JSONToolkit
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
