import Foundation

/// The batch's `--report` file: JSON shaped like CodeBuild's `BuildBatch` object (`BatchGetBuildBatches`), with
/// each build group's phases run and restored; each build writes its own `Build`-shaped report beside it.
struct BatchReport: Encodable {
    typealias Artifacts = BuildReport.Artifacts

    struct BuildSummary: Encodable {
        var arn: String
        var requestedOn: Double
        var buildStatus: String
        var primaryArtifact: Artifacts?
        var secondaryArtifacts: [Artifacts]
    }
    struct BuildGroup: Encodable {
        var identifier: String
        var dependsOn: [String]
        var ignoreFailure: Bool
        /// Nil for a build that never started.
        var currentBuildSummary: BuildSummary?
        /// Why the build did not run or could not finish.
        var statusReason: String?
        var phasesRun: Int
        var phasesRestored: Int
        /// The build's own report.
        var report: String?
        /// `env: compute-type`, `type`, `fleet`, as the buildspec gives them (no local meaning).
        var computeType: String?
        var environmentType: String?
        var fleet: String?
    }
    struct Config: Encodable {
        var combineArtifacts: Bool
        var batchReportMode = "REPORT_AGGREGATED_BATCH"
    }

    var id: String
    var arn: String
    var projectName: String
    var buildBatchStatus: String
    var currentPhase = "SUCCEEDED"
    var complete = true
    var startTime: Double
    var endTime: Double
    var artifacts: Artifacts?
    var buildBatchConfig: Config
    var buildGroups: [BuildGroup]
    var phasesRun: Int
    var phasesRestored: Int

    init(result: BatchResult, projectName: String, combinedArtifacts: String?) {
        id = "\(projectName):\(UUID().uuidString.lowercased())"
        arn = "arn:aws:codebuild:local:000000000000:build-batch/\(id)"
        self.projectName = projectName
        buildBatchStatus = result.status
        currentPhase = result.status == "SUCCEEDED" ? "SUCCEEDED" : result.status == "STOPPED" ? "STOPPED" : "FAILED"
        startTime = result.startTime
        endTime = result.endTime
        artifacts = combinedArtifacts.map(Artifacts.init)
        buildBatchConfig = Config(combineArtifacts: combinedArtifacts != nil)
        phasesRun = result.phasesRun
        phasesRestored = result.phasesRestored
        buildGroups = result.builds.map { build in
            BuildGroup(
                identifier: build.task.identifier, dependsOn: build.task.dependsOn,
                ignoreFailure: build.task.ignoreFailure,
                currentBuildSummary: build.result.map { ran in
                    BuildSummary(
                        arn: "arn:aws:codebuild:local:000000000000:build/\(ran.buildID)", requestedOn: ran.startTime,
                        buildStatus: build.status.rawValue,
                        primaryArtifact: ran.artifactLocations.first.map(Artifacts.init),
                        secondaryArtifacts: ran.artifactLocations.dropFirst().map(Artifacts.init))
                },
                statusReason: build.reason ?? (build.result == nil ? build.status.rawValue : nil),
                phasesRun: build.phasesRun, phasesRestored: build.phasesRestored, report: build.reportPath,
                computeType: build.task.computeType, environmentType: build.task.environmentType,
                fleet: build.task.fleet)
        }
    }
}
