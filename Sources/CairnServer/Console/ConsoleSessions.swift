import CairnCore
import Foundation

/// The console's logged-in sessions, in memory: a random id in an HttpOnly cookie names one, and each carries a
/// token that every form must send back, so that another site cannot post a form in the user's name.
///
/// A restart logs everyone out; sessions end after ``lifetime``.
actor ConsoleSessions {
    struct Session: Sendable {
        let formToken: String
        let expires: Date
    }

    private var sessions: [String: Session] = [:]
    let lifetime: TimeInterval

    init(lifetime: TimeInterval = 12 * 3600) {
        self.lifetime = lifetime
    }

    /// Starts a session; returns its id.
    func start(now: Date = Date()) -> String {
        sessions = sessions.filter { $0.value.expires > now }
        let id = SecureRandom.bytes(24).hexString
        sessions[id] = Session(formToken: SecureRandom.bytes(16).hexString, expires: now.addingTimeInterval(lifetime))
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
