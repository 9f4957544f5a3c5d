/// The body of `POST /_cairn/runner/builds`: how a `cairn build` went, phase by phase, so the server can count the
/// phases restored and run and the time restoring saved.
///
/// `{"project": "...", "buildNumber": N, "succeeded": true, "phases": [{"name": "BUILD", "outcome": "restored",
/// "durationSeconds": 0.4, "savedSeconds": 12.1, "reasons": [...]}]}`.
public struct BuildOutcomeReport: Codable, Sendable, Hashable {
    /// One phase of the build.
    public struct Phase: Codable, Sendable, Hashable {
        /// Whether the phase's outputs came from the store, it ran, or it never started.
        public enum Outcome: String, Codable, Sendable, Hashable {
            case restored, ran
            case notRun = "not-run"
        }

        /// The phase type as CodeBuild names it (`BUILD`).
        public var name: String
        public var outcome: Outcome
        /// How long the phase took in this build (restoring it, when restored).
        public var durationSeconds: Double
        /// For a restored phase, how much longer running it took when it was stored; 0 otherwise.
        public var savedSeconds: Double
        /// Why its key missed (`--explain`), or notes about storing.
        public var reasons: [String]

        public init(name: String, outcome: Outcome, durationSeconds: Double, savedSeconds: Double, reasons: [String]) {
            self.name = name
            self.outcome = outcome
            self.durationSeconds = durationSeconds
            self.savedSeconds = savedSeconds
            self.reasons = reasons
        }
    }

    public var project: String
    public var buildNumber: Int
    public var succeeded: Bool
    /// When the build started and ended, in seconds since 1970.
    public var startTime: Double
    public var endTime: Double
    public var phases: [Phase]

    public init(
        project: String, buildNumber: Int, succeeded: Bool, startTime: Double, endTime: Double, phases: [Phase]
    ) {
        self.project = project
        self.buildNumber = buildNumber
        self.succeeded = succeeded
        self.startTime = startTime
        self.endTime = endTime
        self.phases = phases
    }

    /// Seconds the restored phases saved, in all.
    public var savedSeconds: Double { phases.reduce(0) { $0 + max(0, $1.savedSeconds) } }
}
