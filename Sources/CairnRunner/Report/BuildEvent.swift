import Foundation

/// One `--json` event, written as one line of JSON on standard output (the README lists the events and their
/// fields). Fields that do not apply to an event are left out.
struct BuildEvent: Encodable, Sendable {
    /// `build-started`, `phase-started`, `progress`, `phase-ended`, `build-ended`.
    var event: String
    /// Seconds since 1970.
    var time = Date().timeIntervalSince1970
    /// The build's identifier in a batch (`CODEBUILD_BATCH_BUILD_IDENTIFIER`); absent for a build of its own.
    var build: String?
    var buildId: String?
    var buildNumber: Int?
    /// `INSTALL`, `PRE_BUILD`, `BUILD`, `POST_BUILD`; for `progress` also `CACHE` (the buildspec's `cache` section)
    /// and `UPLOAD_ARTIFACTS`.
    var phase: String?
    /// `phase-started`: `running` or `restoring`.
    var state: String?
    /// `progress`: `restore` (files downloaded into the workspace), `store` (blobs uploaded that the store lacked) or
    /// `upload` (artifact files uploaded as S3 objects).
    var direction: String?
    var files: Int?
    var totalFiles: Int?
    var bytes: Int64?
    var totalBytes: Int64?
    /// `progress`: true on the transfer's last event.
    var final: Bool?
    /// `phase-ended` and `build-ended`: `SUCCEEDED`, `FAILED` (a phase also `NOT_RUN`).
    var status: String?
    /// `phase-ended`: `HIT`, `MISS` or `DISABLED`.
    var cache: String?
    var durationSeconds: Double?
    var savedSeconds: Double?
    /// `build-ended`: phases run and restored.
    var ran: Int?
    var restored: Int?

    init(_ event: String) {
        self.event = event
    }

    static func buildStarted(id: String, number: Int) -> BuildEvent {
        var event = BuildEvent("build-started")
        event.buildId = id
        event.buildNumber = number
        return event
    }

    static func phaseStarted(_ phase: PhaseName, state: String) -> BuildEvent {
        var event = BuildEvent("phase-started")
        event.phase = phase.phaseType
        event.state = state
        return event
    }

    static func progress(
        _ subject: String, _ direction: TransferProgress.Direction, _ counts: TransferProgress.Counts, final: Bool
    ) -> BuildEvent {
        var event = BuildEvent("progress")
        event.phase = subject
        event.direction = direction.rawValue
        event.files = counts.files
        event.totalFiles = counts.totalFiles
        event.bytes = counts.bytes
        event.totalBytes = counts.totalBytes
        event.final = final
        return event
    }

    static func phaseEnded(_ result: PhaseResult) -> BuildEvent {
        var event = BuildEvent("phase-ended")
        event.phase = result.name.phaseType
        event.status = result.status.rawValue
        event.cache = result.cache.rawValue
        event.durationSeconds = result.durationSeconds
        event.savedSeconds = result.savedSeconds
        return event
    }

    static func buildEnded(_ result: BuildResult) -> BuildEvent {
        var event = BuildEvent("build-ended")
        event.buildId = result.buildID
        event.buildNumber = result.buildNumber
        event.status = result.succeeded ? "SUCCEEDED" : "FAILED"
        event.durationSeconds = result.endTime - result.startTime
        event.ran = result.phasesRun
        event.restored = result.phasesRestored
        event.savedSeconds = result.savedSeconds
        return event
    }
}
