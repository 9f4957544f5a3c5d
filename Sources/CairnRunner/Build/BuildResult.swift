/// What a build did.
public struct BuildResult: Sendable {
    public var buildID: String
    public var buildNumber: Int
    public var succeeded: Bool
    public var phases: [PhaseResult]
    /// `s3://` URIs of uploaded artifacts, reports included.
    public var artifactLocations: [String]
    /// `env: exported-variables` with their final values.
    public var exportedVariables: [Buildspec.NameValue]
    public var startTime: Double
    public var endTime: Double
    /// The shell's exported environment at the end.
    public var finalEnvironment: [String: String]
    /// The signal that stopped the build (Ctrl-C: `SIGINT`), if one did.
    public var interruptingSignal: Int32?
    /// The build's workspace on this machine, when the build kept it (``BuildOptions/keepWorkspace``).
    public var workspaceDirectory: String?
}
