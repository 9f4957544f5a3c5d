/// How one build of a batch ended.
public struct BatchBuildResult: Sendable {
    /// CodeBuild's build statuses, plus the builds a batch never started.
    public enum Status: String, Sendable {
        case succeeded = "SUCCEEDED"
        case failed = "FAILED"
        /// The build could not start or run (an invalid option, a missing image): not the commands' fault.
        case fault = "FAULT"
        /// Stopped by Ctrl-C or by `fast-fail` while it ran.
        case stopped = "STOPPED"
        /// Never started: a dependency failed, or the batch stopped first.
        case notRun = "NOT_RUN"
    }

    public var task: BatchTask
    public var status: Status
    /// The build's own result, when it ran.
    public var result: BuildResult?
    /// Why the build did not run or could not finish.
    public var reason: String?
    /// Where the build's own report was written.
    public var reportPath: String?

    /// Whether the builds that depend on this one may start: it succeeded, or it failed and may.
    var releasesDependents: Bool {
        status == .succeeded || (task.ignoreFailure && (status == .failed || status == .fault))
    }

    /// Whether this build makes the batch fail.
    var failsBatch: Bool { status != .succeeded && !task.ignoreFailure }

    /// Wall-clock seconds the build ran; 0 when it did not.
    public var durationSeconds: Double { result.map { $0.endTime - $0.startTime } ?? 0 }
}
