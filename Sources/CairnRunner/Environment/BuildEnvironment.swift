/// Where a build's commands run and how a phase's effect on the files is captured and replayed.
///
/// The runner keeps *what a phase is* (its key, its cache entry) apart from *where it runs*. Every build runs in a
/// fresh copy of its source (``BuildWorkspace``) that the commands see at ``sourceDirectory``; a phase's effect is
/// the difference between two snapshots taken before and after its commands, and a hit replays a recorded
/// difference. ``HostEnvironment`` runs the commands on this machine; ``ContainerEnvironment`` in a container of
/// the image the user names, where a phase's effect is its change to the container's whole filesystem.
protocol BuildEnvironment: Sendable {
    /// The source directory as the build's commands see it (`CODEBUILD_SRC_DIR`).
    var sourceDirectory: String { get }

    /// What the build runs on, for the phase keys: the image's digest in a container, `host` otherwise.
    var identity: String { get }

    /// The environment the build's variables are added to: the image's in a container; nil on the host, where the
    /// build starts from the environment `cairn` was started with.
    var baseEnvironment: [String: String]? { get }

    /// Starts the build's one shell session in `workingDirectory` with exactly `environment`.
    ///
    /// `cd` and `export` carry over from command to command and phase to phase, as in CodeBuild.
    func startSession(
        shell: String, workingDirectory: String, environment: [String: String], interruption: BuildInterruption?
    ) throws -> any CommandSession

    /// The files a phase can change, as they are now: the source tree and the given absolute roots.
    ///
    /// Two snapshots' ``WorkspaceSnapshot/changes(to:)`` are a phase's effect.
    func snapshot(extraRoots: [String]) async throws -> WorkspaceSnapshot

    /// Applies recorded changes, downloading file contents from `store`; `current` is a snapshot taken since the
    /// files last changed, so content already in place is not fetched again.
    func apply(
        _ changes: WorkspaceChanges, current: WorkspaceSnapshot, from store: any PhaseStore, paths: PortablePaths
    ) async throws

    /// Where an absolute path as the build sees it is on this machine, to read or write the file there.
    func hostPath(_ path: String) -> String

    /// Ends the environment: its processes, its container, its workspace (unless the build keeps it).
    func close() async
}

extension BuildEnvironment {
    var baseEnvironment: [String: String]? { nil }

    /// Restores through ``hostPath(_:)``: recorded paths as the build sees them, written where they are here.
    func apply(
        _ changes: WorkspaceChanges, current: WorkspaceSnapshot, from store: any PhaseStore, paths: PortablePaths
    ) async throws {
        try await WorkspaceRestorer(store: store).apply(changes, current: current) { hostPath(paths.absolute($0)) }
    }
}
