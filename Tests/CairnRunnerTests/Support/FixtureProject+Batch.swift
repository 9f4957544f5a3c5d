import CairnRunner
import Foundation

extension FixtureProject {
    /// Runs the buildspec's batch with the runner's library API; the console output is kept in `output`.
    func batch(
        store: any PhaseStore, jobs: Int = 4, combineArtifacts: Bool = false,
        configure: (inout BuildOptions) -> Void = { _ in }
    ) async throws -> (result: BatchResult, output: String) {
        let log = OutputCapture()
        var options = BuildOptions(
            sourceDirectory: directory, store: store, environment: ProcessInfo.processInfo.environment,
            console: BuildConsole { log.append($0) }
        )
        options.projectName = "fixture"
        options.workspaceRoot = FileManager.default.temporaryDirectory.path + "/cairn-test-workspaces"
        configure(&options)
        let result = try await BatchRunner.run(options, jobs: jobs, combineArtifacts: combineArtifacts)
        return (result, log.text)
    }
}

extension BatchResult {
    /// Each build's status by identifier: `SUCCEEDED`, `FAILED`, `STOPPED`, `NOT_RUN`, `FAULT`.
    var statuses: [String: String] {
        Dictionary(uniqueKeysWithValues: builds.map { ($0.task.identifier, $0.status.rawValue) })
    }

    /// How many builds ran `phase` (its key missed) and how many restored it.
    func count(_ phase: PhaseName) -> (ran: Int, restored: Int) {
        let results = builds.compactMap { $0.result?.phase(phase) }
        return (
            results.filter { $0.cache == .miss && $0.status != .notRun }.count,
            results.filter { $0.cache == .hit }.count
        )
    }
}
