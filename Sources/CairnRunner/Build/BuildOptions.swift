/// How to run a build: where, against which store, and what to write.
public struct BuildOptions: Sendable {
    /// The source directory (`CODEBUILD_SRC_DIR`), absolute.
    public var sourceDirectory: String
    /// The buildspec file; `buildspec.yml` in the source directory by default.
    public var buildspecPath: String
    public var store: any PhaseStore
    /// False with `--no-cache`: every phase runs and nothing is read from or written to the phase cache.
    public var useCache = true
    /// True with `--rerecord`: every phase runs, and each one that succeeds replaces its entry (a way to drop a bad
    /// one).
    public var rerecord = false
    /// False when the store did not answer at the start: the build runs without it (no phase cache, no history,
    /// no `cache` section) and only the artifact upload, which needs it, fails.
    var storeReachable = true
    /// Say for every phase why it hit or missed.
    public var explain = false
    /// Where to write the CodeBuild-shaped JSON report.
    public var reportPath: String?
    /// Artifact destination: `s3://BUCKET/PREFIX`; nil for `s3://cairn-artifacts/<project>`.
    public var artifactsDestination: String?
    /// Package artifacts as one zip instead of separate files.
    public var zipArtifacts = false
    /// The project's name (artifact names, history); the source directory's name by default.
    public var projectName: String?
    /// The environment the build starts from.
    public var environment: [String: String]
    /// Values for `parameter-store` and `secrets-manager` names, from `--secrets-file`.
    public var secrets: [String: String] = [:]
    public var console: BuildConsole
    /// Set to stop the build from outside (the command line wires Ctrl-C and SIGTERM to it).
    public var interruption: BuildInterruption?
    /// Where the artifacts are also copied, as they are named in the store; nil to only upload them.
    public var outputDirectory: String?
    /// Leave the build's workspace in place after the build (its path is in the result), to look at what ran.
    public var keepWorkspace = false
    /// Where the build's fresh workspaces are made; ``BuildWorkspace/defaultRoot(environment:)`` when nil.
    public var workspaceRoot: String?
    /// The container image to run the whole build in; nil to run it on the host.
    public var image: String?
    /// The container engine: `podman` (default) or `docker`.
    public var engine: String?
    /// CodeBuild's privileged mode: the container may run containers itself.
    public var privileged = false
    /// The container's network (`none` forbids it); nil for the engine's default.
    public var network: String?
    /// The build's identifier in a batch (`CODEBUILD_BATCH_BUILD_IDENTIFIER`); nil for a build of its own.
    public var batchIdentifier: String?
    /// Variables that override the buildspec's `env: variables` of the same name (a batch task's `env: variables`);
    /// they join every phase key as the buildspec's own do.
    public var variableOverrides: [Buildspec.NameValue] = []
    /// Phases in flight in other builds of the same batch: a build that reaches a key another build is running waits
    /// for it and restores its entry instead of running the phase again. Nil outside a batch.
    public var phaseFlights: PhaseFlights?
    /// Files of the runner's own in the source tree besides ``buildspecPath`` and ``reportPath`` (a batch's other
    /// buildspecs and reports): never phase inputs, so builds of a batch that differ only in them share keys.
    public var runnerFiles: [String] = []

    public init(
        sourceDirectory: String, buildspecPath: String? = nil, store: any PhaseStore, environment: [String: String],
        console: BuildConsole = .standardOutput
    ) {
        self.sourceDirectory = sourceDirectory
        self.buildspecPath = buildspecPath ?? sourceDirectory + "/buildspec.yml"
        self.store = store
        self.environment = environment
        self.console = console
    }
}
