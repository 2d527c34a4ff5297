import Crypto
import Foundation

/// A signed-in page: its id (the cookie's value) and the CSRF token its forms carry.
struct PageSession: Sendable {
    let id: String
    let csrf: String
    let created: Date
}

/// Page sign-ins, in memory: a restart signs everyone out. Bounded: past `limit` sessions the least recently used
/// goes. A session unused for `lifetime` seconds ends.
final class SessionStore: @unchecked Sendable {
    static let cookieName = "archiver_session"
    static let signInCookieName = "archiver_signin"

    private let lock = NSLock()
    private var sessions: [String: (session: PageSession, lastSeen: Date)] = [:]
    /// A notice for the session's next page (what a form post did), shown once.
    private var notices: [String: String] = [:]
    private let lifetime: Double
    private let limit: Int

    init(lifetime: Double, limit: Int = 1000) {
        self.lifetime = lifetime
        self.limit = limit
    }

    /// A new session.
    func create(now: Date = Date()) -> PageSession {
        let session = PageSession(id: Self.randomToken(), csrf: Self.randomToken(), created: now)
        lock.withLock {
            sessions = sessions.filter { now.timeIntervalSince($0.value.lastSeen) < lifetime }
            if sessions.count >= limit, let oldest = sessions.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
                sessions[oldest] = nil
            }
            notices = notices.filter { sessions[$0.key] != nil }
            sessions[session.id] = (session, now)
        }
        return session
    }

    /// The live session with this id (its use counted now), or nil.
    func session(_ id: String, now: Date = Date()) -> PageSession? {
        lock.withLock {
            guard let entry = sessions[id] else { return nil }
            guard now.timeIntervalSince(entry.lastSeen) < lifetime else {
                sessions[id] = nil
                return nil
            }
            sessions[id] = (entry.session, now)
            return entry.session
        }
    }

    /// Signs a session out.
    func end(_ id: String) {
        lock.withLock {
            sessions[id] = nil
            notices[id] = nil
        }
    }

    /// Leaves a notice for the session's next page.
    func leaveNotice(_ text: String, for id: String) {
        lock.withLock { if sessions[id] != nil { notices[id] = text } }
    }

    /// The notice left for the session, taken (shown once).
    func takeNotice(for id: String) -> String? {
        lock.withLock { notices.removeValue(forKey: id) }
    }

    /// 32 random bytes, hex.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }

    /// Whether two secrets are equal, in time that does not depend on where they differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(SHA256.hash(data: Array(a.utf8)))
        let y = Array(SHA256.hash(data: Array(b.utf8)))
        var difference: UInt8 = 0
        for (p, q) in zip(x, y) { difference |= p ^ q }
        return difference == 0
    }
}
