/// AWS access keys used to sign requests.
///
/// The secret access key and the session token never appear in any printed form of a value of
/// this type: `description`, `debugDescription`, string interpolation and `dump` (through
/// ``customMirror``) all redact them, so credentials can be logged by accident without leaking.
public struct AWSCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The access key ID, e.g. `AKIAIOSFODNN7EXAMPLE`. Not secret, but shown shortened when printed.
    public var accessKeyID: String
    /// The secret access key. Never printed.
    public var secretAccessKey: String
    /// The session token of temporary credentials (STS, SSO, an instance role), if any. Never printed.
    public var sessionToken: String?

    /// Creates credentials from an access key pair and, for temporary credentials, a session token.
    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The access key ID shortened to its first and last four characters (`AKIA…MPLE`), or
    /// `<redacted>` when it is too short to shorten.
    var redactedAccessKeyID: String {
        guard accessKeyID.count > 8 else { return "<redacted>" }
        return "\(accessKeyID.prefix(4))…\(accessKeyID.suffix(4))"
    }

    /// A printable form without the secret or the token,
    /// e.g. `AWSCredentials(accessKeyID: AKIA…MPLE, secret: <redacted>)`.
    public var description: String {
        var text = "AWSCredentials(accessKeyID: \(redactedAccessKeyID), secret: <redacted>"
        if sessionToken != nil { text += ", sessionToken: <redacted>" }
        return text + ")"
    }

    /// The same as ``description``: the secret and the token are redacted.
    public var debugDescription: String { description }

    /// A mirror with the secret and the token redacted, so `dump` and reflection leak nothing.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "accessKeyID": redactedAccessKeyID,
                "secretAccessKey": "<redacted>",
                "sessionToken": sessionToken == nil ? "nil" : "<redacted>",
            ],
            displayStyle: .struct
        )
    }
}
