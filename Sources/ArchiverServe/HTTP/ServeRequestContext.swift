import Hummingbird

/// The context of one request to `archiver serve`: Hummingbird's, and how the request was let in.
public struct ServeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// How the request was let in (set by ``AuthMiddleware``).
    var access: Access = .open

    /// How a request was let in.
    enum Access: Sendable {
        /// A path anyone may ask for (`/healthz`, `/readyz`, `/metrics`, the sign-in page).
        case open
        /// `Authorization: Bearer <token>`.
        case bearer
        /// A signed-in page session (its form posts carry its CSRF token).
        case session(PageSession)
    }

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Request bodies are small (a form, a few ids): 1 MiB is plenty.
    public var maxUploadSize: Int { 1 << 20 }

    /// The session of a signed-in page request.
    var session: PageSession? {
        if case .session(let session) = access { return session }
        return nil
    }
}
