import Foundation

/// The `--report` file: JSON shaped like CodeBuild's `Build` object (`BatchGetBuilds`), plus each phase's cache
/// outcome and key.
struct BuildReport: Encodable {
    struct Phase: Encodable {
        var phaseType: String
        var phaseStatus: String?
        var startTime: Double
        var endTime: Double
        var durationInSeconds: Int
        var cache: String
        var key: String?
        var attempts: Int
        var contexts: [[String: String]]
    }
    struct Artifacts: Encodable {
        var location: String
    }
    struct ExportedVariable: Encodable {
        var name: String
        var value: String
    }

    var id: String
    var arn: String
    var buildNumber: Int
    var projectName: String
    var buildStatus: String
    var currentPhase = "COMPLETED"
    var startTime: Double
    var endTime: Double
    var sourceVersion: String?
    var phases: [Phase]
    var artifacts: Artifacts?
    var secondaryArtifacts: [Artifacts]
    var exportedEnvironmentVariables: [ExportedVariable]

    init(result: BuildResult, projectName: String, sourceDirectory: String) {
        id = result.buildID
        arn = "arn:aws:codebuild:local:000000000000:build/\(result.buildID)"
        buildNumber = result.buildNumber
        self.projectName = projectName
        buildStatus = result.succeeded ? "SUCCEEDED" : "FAILED"
        startTime = result.startTime
        endTime = result.endTime
        sourceVersion = result.finalEnvironment["CODEBUILD_RESOLVED_SOURCE_VERSION"]
        phases = result.phases.map { phase in
            Phase(
                phaseType: phase.name.phaseType, phaseStatus: phase.status == .notRun ? nil : phase.status.rawValue,
                startTime: phase.startTime, endTime: phase.endTime,
                durationInSeconds: Int(phase.durationSeconds.rounded()), cache: phase.cache.rawValue, key: phase.key,
                attempts: phase.attempts,
                contexts: phase.reasons.map { ["statusCode": phase.cache.rawValue, "message": $0] }
            )
        }
        artifacts = result.artifactLocations.first.map(Artifacts.init)
        secondaryArtifacts = result.artifactLocations.dropFirst().map(Artifacts.init)
        exportedEnvironmentVariables = result.exportedVariables.map { ExportedVariable(name: $0.name, value: $0.value) }
    }
}
