import CairnCore

extension BuildResult {
    /// What the server is told when the build ends: each phase restored, run or not run, and the time saved.
    func outcomeReport(project: String) -> BuildOutcomeReport {
        BuildOutcomeReport(
            project: project, buildNumber: buildNumber, succeeded: succeeded, startTime: startTime, endTime: endTime,
            phases: phases.map { phase in
                let outcome: BuildOutcomeReport.Phase.Outcome =
                    phase.status == .notRun ? .notRun : phase.cache == .hit ? .restored : .ran
                return BuildOutcomeReport.Phase(
                    name: phase.name.phaseType, outcome: outcome, durationSeconds: phase.durationSeconds,
                    savedSeconds: phase.savedSeconds, reasons: phase.reasons)
            })
    }
}
