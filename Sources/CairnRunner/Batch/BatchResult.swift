/// What a batch did: every build's outcome in the batch's order, and the verdict.
public struct BatchResult: Sendable {
    public var builds: [BatchBuildResult]
    public var startTime: Double
    public var endTime: Double
    /// The signal that stopped the batch (Ctrl-C: `SIGINT`), if one did; `fast-fail` is not a signal here.
    public var interruptingSignal: Int32?

    /// True when every build that may not fail succeeded.
    public var succeeded: Bool { interruptingSignal == nil && !builds.contains { $0.failsBatch } }

    /// CodeBuild's `buildBatchStatus`.
    public var status: String { interruptingSignal != nil ? "STOPPED" : succeeded ? "SUCCEEDED" : "FAILED" }

    /// Phases that ran (their key missed) and phases restored from the store, over every build.
    public var phasesRun: Int { builds.reduce(0) { $0 + $1.phasesRun } }
    public var phasesRestored: Int { builds.reduce(0) { $0 + $1.phasesRestored } }
}

extension BatchBuildResult {
    /// Phases of this build that ran: their key missed, or caching was off.
    public var phasesRun: Int { result?.phases.filter { $0.cache != .hit && $0.status != .notRun }.count ?? 0 }
    /// Phases of this build restored from the store.
    public var phasesRestored: Int { result?.phases.filter { $0.cache == .hit }.count ?? 0 }
}
