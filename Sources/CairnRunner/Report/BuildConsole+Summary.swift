import Foundation

extension BuildConsole {
    /// The table printed at the end of a build: each phase's status, duration and cache outcome, then artifacts,
    /// exported variables and the verdict.
    func summary(of result: BuildResult) {
        line("")
        line("[cairn] phase        status     duration  cache")
        for phase in result.phases {
            let how: String
            switch (phase.status, phase.cache) {
            case (.notRun, _): how = "not run"
            case (_, .hit): how = "restored"
            case (_, .disabled): how = "ran (cache disabled)"
            case (.failed, _): how = "ran, not stored"
            case (_, .miss): how = phase.stored ? "ran, stored" : "ran"
            }
            let name = phase.name.phaseType.padding(toLength: 12, withPad: " ", startingAt: 0)
            let status = phase.status.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            let duration = String(format: "%7.2fs", phase.durationSeconds)
            line("[cairn] \(name) \(status) \(duration)  \(how)")
        }
        for location in result.artifactLocations { line("[cairn] artifact \(location)") }
        for variable in result.exportedVariables { line("[cairn] exported \(variable.name)=\(variable.value)") }
        let restored = result.phasesRestored
        let ran = result.phasesRun
        let saved = result.savedSeconds
        // The verdict is the one line --quiet keeps (with warnings).
        notice(
            "[cairn] build \(result.succeeded ? "SUCCEEDED" : "FAILED") in "
                + String(format: "%.2f", result.endTime - result.startTime) + " s: \(ran) ran, \(restored) restored"
                + (restored > 0 ? String(format: ", %.2f s saved by restoring", saved) : "")
        )
    }
}
