import Foundation

extension BuildConsole {
    /// The table printed at the end of a batch: each build's status, duration and phases run and restored.
    func batchSummary(of result: BatchResult) {
        let width = max(12, result.builds.map(\.task.identifier.count).max() ?? 0)
        line("")
        line(
            "[cairn] " + "build".padding(toLength: width, withPad: " ", startingAt: 0) + "  status     duration  phases"
        )
        for build in result.builds {
            let name = build.task.identifier.padding(toLength: width, withPad: " ", startingAt: 0)
            let status = build.status.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            let duration = String(format: "%7.2fs", build.durationSeconds)
            var how = build.result == nil ? "" : "\(build.phasesRun) ran, \(build.phasesRestored) restored"
            if let reason = build.reason { how += (how.isEmpty ? "" : "; ") + reason }
            if build.task.ignoreFailure && build.status != .succeeded { how += " (ignore-failure)" }
            line("[cairn] \(name)  \(status) \(duration)  \(how)")
        }
        line(
            "[cairn] batch \(result.status) in " + String(format: "%.2f", result.endTime - result.startTime)
                + " s: \(result.builds.count) builds, \(result.phasesRun) phases ran, \(result.phasesRestored) restored"
        )
    }
}
