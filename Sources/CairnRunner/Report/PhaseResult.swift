/// How a phase went, as the summary and the report show it.
public struct PhaseResult: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        case succeeded = "SUCCEEDED"
        case failed = "FAILED"
        /// Not run because an earlier phase stopped the build.
        case notRun = "NOT_RUN"
    }

    public enum CacheOutcome: String, Sendable, Hashable {
        case hit = "HIT"
        case miss = "MISS"
        case disabled = "DISABLED"
    }

    public var name: PhaseName
    public var status: Status
    public var cache: CacheOutcome
    public var key: String?
    public var durationSeconds: Double
    public var startTime: Double
    public var endTime: Double
    /// Why the key missed (with `--explain`), or a note about storing.
    public var reasons: [String] = []
    /// Attempts made (more than 1 after `on-failure: RETRY`).
    public var attempts = 1
    /// Whether the phase's result was stored.
    public var stored = false
    /// For a restored phase, how much longer running it took when it was stored than restoring it took now.
    public var savedSeconds: Double = 0
}
