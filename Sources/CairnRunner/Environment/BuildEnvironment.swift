/// Where a build's commands run and how a phase's effect on the files is captured and replayed.
///
/// The runner keeps *what a phase is* (its key, its cache entry) apart from *where it runs*. A phase's effect is the
/// difference between two snapshots taken before and after its commands; a hit replays a recorded difference. The
/// host's source directory (``HostEnvironment``) is the only environment so far; a fresh workspace or a container
/// would conform here, with its own session and its own way of seeing what changed.
protocol BuildEnvironment: Sendable {
    /// Starts the build's one shell session in `workingDirectory` with exactly `environment`.
    ///
    /// `cd` and `export` carry over from command to command and phase to phase, as in CodeBuild.
    func startSession(
        shell: String, workingDirectory: String, environment: [String: String], interruption: BuildInterruption?
    ) throws -> any CommandSession

    /// The files a phase can change, as they are now: the source tree and the given absolute roots.
    ///
    /// Two snapshots' ``WorkspaceSnapshot/changes(to:)`` are a phase's effect.
    func snapshot(extraRoots: [String]) throws -> WorkspaceSnapshot

    /// Applies recorded changes, downloading file contents from `store`; `current` is a snapshot taken since the
    /// files last changed, so content already in place is not fetched again.
    func apply(
        _ changes: WorkspaceChanges, current: WorkspaceSnapshot, from store: any PhaseStore, paths: PortablePaths
    ) async throws
}
