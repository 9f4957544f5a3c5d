import CairnCore
import Foundation

/// The console's logged-in sessions, in memory: a random id in an HttpOnly cookie names one, and each carries a
/// token that every form must send back, so that another site cannot post a form in the user's name.
///
/// A restart logs everyone out; sessions end after ``lifetime``, and a session opened with a token ends when the
/// token is revoked (checked on every request).
actor ConsoleSessions {
    struct Session: Sendable {
        let formToken: String
        let expires: Date
        /// The token the session was opened with; nil for the root credentials.
        let tokenID: String?
        /// Whether the session may change things (delete objects, manage tokens): the root credentials or a token
        /// with the admin scope. Otherwise it reads.
        let administers: Bool
    }

    private var sessions: [String: Session] = [:]
    let lifetime: TimeInterval

    init(lifetime: TimeInterval = 12 * 3600) {
        self.lifetime = lifetime
    }

    /// Starts a session for the root credentials (`token` nil) or a token; returns its id.
    func start(token: CacheToken?, now: Date = Date()) -> String {
        sessions = sessions.filter { $0.value.expires > now }
        let id = SecureRandom.bytes(24).hexString
        sessions[id] = Session(
            formToken: SecureRandom.bytes(16).hexString, expires: now.addingTimeInterval(lifetime),
            tokenID: token?.id, administers: token.map { $0.scopes.contains(.admin) } ?? true)
        return id
    }

    /// The live session with this id, or nil.
    func session(_ id: String, now: Date = Date()) -> Session? {
        guard let session = sessions[id], session.expires > now else { return nil }
        return session
    }

    func end(_ id: String) {
        sessions[id] = nil
    }
}
