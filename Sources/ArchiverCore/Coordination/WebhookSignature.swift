import Crypto
import Foundation

/// Signs webhook deliveries as the Standard Webhooks specification says (https://www.standardwebhooks.com):
/// `webhook-id` (the event's id), `webhook-timestamp` (seconds since 1970, when sent) and `webhook-signature`
/// (`v1,<base64 of HMAC-SHA256 over "{id}.{timestamp}.{body}">`, one per secret, space-separated, so a receiver
/// rotating its secret accepts either).
public struct WebhookSigner: Sendable {
    /// The keys, decoded from `whsec_<base64>` secrets, newest first.
    let keys: [[UInt8]]

    /// - Throws: `WebhookSecretError` for a secret that is not `whsec_` followed by base64.
    public init(secrets: [String]) throws {
        keys = try secrets.map(Self.key(fromSecret:))
    }

    /// The key of a `whsec_…` secret (the prefix is optional, as in the reference libraries).
    public static func key(fromSecret secret: String) throws -> [UInt8] {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        let encoded = trimmed.hasPrefix("whsec_") ? String(trimmed.dropFirst(6)) : trimmed
        guard let data = Data(base64Encoded: encoded), !data.isEmpty else {
            throw WebhookSecretError(description: "a webhook secret is whsec_ followed by base64 (e.g. whsec_\(Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())); the one given is not")
        }
        return Array(data)
    }

    /// The `webhook-signature` header's value.
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message += body
        return keys.map { key in
            "v1," + Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))).base64EncodedString()
        }.joined(separator: " ")
    }

    /// The three headers of one delivery.
    public func headers(id: String, timestamp: Int, body: [UInt8]) -> [(name: String, value: String)] {
        [("webhook-id", id), ("webhook-timestamp", "\(timestamp)"), ("webhook-signature", signature(id: id, timestamp: timestamp, body: body))]
    }
}

/// A webhook secret that cannot be used.
public struct WebhookSecretError: Error, Sendable, CustomStringConvertible {
    public let description: String
}
