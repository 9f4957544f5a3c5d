/// Commands run on this machine, in the source directory itself; effects are seen by scanning it.
///
/// The scanner remembers digests of unchanged files between snapshots, so a phase's snapshot hashes only what
/// changed.
struct HostEnvironment: BuildEnvironment {
    let scanner: WorkspaceScanner

    init(sourceDirectory: String) {
        self.scanner = WorkspaceScanner(sourceDirectory: sourceDirectory)
    }

    func startSession(
        shell: String, workingDirectory: String, environment: [String: String], interruption: BuildInterruption?
    ) throws -> any CommandSession {
        try ShellSession(
            shell: shell, workingDirectory: workingDirectory, environment: environment, interruption: interruption
        )
    }

    func snapshot(extraRoots: [String]) throws -> WorkspaceSnapshot {
        try scanner.snapshot(extraRoots: extraRoots)
    }

    func apply(
        _ changes: WorkspaceChanges, current: WorkspaceSnapshot, from store: any PhaseStore, paths: PortablePaths
    ) async throws {
        try await WorkspaceRestorer(store: store).apply(changes, current: current, absolute: paths.absolute)
    }
}
