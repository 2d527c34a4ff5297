/// The body of a request, as the signer needs it: the bytes themselves, their precomputed hash,
/// or nothing (an unsigned payload).
public enum SigV4Payload: Sendable {
    /// The body bytes; the signer hashes them with SHA-256.
    case bytes([UInt8])
    /// The lowercase hex SHA-256 of the body, computed by the caller (e.g. while streaming a file).
    case sha256Hex(String)
    /// `UNSIGNED-PAYLOAD`: the body is not part of the signature. Accepted by S3 only.
    case unsigned

    /// The literal that stands for an unsigned body in the canonical request.
    public static let unsignedPayloadLiteral = "UNSIGNED-PAYLOAD"

    /// The lowercase hex SHA-256 of an empty body.
    public static let emptySHA256Hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// The value that goes on the last line of the canonical request (and in `x-amz-content-sha256`):
    /// the hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    public var payloadHash: String {
        switch self {
        case .bytes(let bytes): return sha256HexDigest(bytes)
        case .sha256Hex(let hex): return hex
        case .unsigned: return Self.unsignedPayloadLiteral
        }
    }
}
