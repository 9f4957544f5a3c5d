import Synchronization

/// Lets something happen at most once per `interval`: a progress line in a log (every five seconds, whichever build
/// of a batch it is about), a transfer's `--json` progress events (every second).
final class RateLimit: Sendable {
    let interval: Duration
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    init(interval: Duration) {
        self.interval = interval
    }

    /// Whether it may happen at `now` (always with `force`); if so, it counts as happened.
    func admit(now: ContinuousClock.Instant = .now, force: Bool = false) -> Bool {
        last.withLock { last in
            if !force, let last, now - last < interval { return false }
            last = now
            return true
        }
    }
}
