/// Single flight for phase keys across the builds of one batch.
///
/// Builds of a batch often reach the same phase key at about the same time (a matrix whose `install` phases are
/// identical). Without coordination each would miss the store and run the phase. With it, the first build to miss a
/// key runs the phase while the others wait; when it has stored its entry (or failed), they look the key up again
/// and restore it. A build that waits holds nothing another build needs (a build waits only before a phase, never
/// while running one), so waiting cannot deadlock.
public actor PhaseFlights {
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    /// True when the caller is the first to reach `key` and must run the phase, then ``release(_:)`` it; false once
    /// the build that ran it has released it (look the key up again: it is stored unless that run failed).
    func claim(_ key: String) async -> Bool {
        guard waiting[key] != nil else {
            waiting[key] = []
            return true
        }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
        return false
    }

    /// Ends the flight of `key`: every build waiting for it resumes.
    func release(_ key: String) {
        for continuation in waiting.removeValue(forKey: key) ?? [] { continuation.resume() }
    }
}
