import AWSClients
import Foundation

/// Creates IAM users with access keys on a moto server, through this package's own HTTP layer
/// (IAM query protocol, signed as service "iam").
public struct MotoIAM: Sendable {
    private let http: AWSHTTPClient
    private let endpoint: URL

    /// A client for the IAM API of `server`, signing with `credentials`.
    public init(server: MotoServer, credentials: AWSCredentials = MotoServer.credentials) {
        http = AWSHTTPClient(credentials: credentials, region: MotoServer.region, retryPolicy: .none)
        endpoint = server.endpoint
    }

    /// Creates a user allowed to do everything and returns a new access key for it. Makes 3 requests.
    public func createUserWithAccessKey(userName: String) async throws -> AWSCredentials {
        _ = try await call("CreateUser", ["UserName": userName])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#
        _ = try await call("PutUserPolicy", ["UserName": userName, "PolicyName": "all", "PolicyDocument": policy])
        let body = try await call("CreateAccessKey", ["UserName": userName])
        guard let keyID = Self.element("AccessKeyId", in: body), let secret = Self.element("SecretAccessKey", in: body) else {
            throw MotoIAMError(reason: "CreateAccessKey answered without a key")
        }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret)
    }

    private func call(_ action: String, _ parameters: [String: String]) async throws -> String {
        var fields = ["Action=\(action)", "Version=2010-05-08"]
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) {
            fields.append("\(name)=\(Self.formEncode(value))")
        }
        let request = AWSRequest(
            service: .iam, operation: action, method: "POST", endpoint: endpoint, path: "/",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(fields.joined(separator: "&").utf8))
        let response = try await http.send(request)
        return String(decoding: response.body, as: UTF8.self)
    }

    private static func formEncode(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-_.~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    private static func element(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex) else {
            return nil
        }
        return String(xml[start.upperBound..<end.lowerBound])
    }
}

/// An IAM answer that was not understood.
public struct MotoIAMError: Error, CustomStringConvertible {
    /// What was wrong.
    public var reason: String
    public var description: String { reason }
}
