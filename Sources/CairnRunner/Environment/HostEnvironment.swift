import Foundation

/// Commands run on this machine, in the build's fresh workspace; effects are seen by scanning it.
///
/// With bubblewrap (``HostSandbox``) the commands see the workspace at its canonical path, the same in every build
/// and on every machine; without it they see it where it is, and entries hit only builds at that same path. Effects
/// outside the workspace and the declared outputs are not recorded: ``OutsideChangeWatch`` warns about them.
/// The scanner remembers digests of unchanged files between snapshots, so a phase's snapshot hashes only what
/// changed.
struct HostEnvironment: BuildEnvironment {
    let workspace: BuildWorkspace
    let sandbox: HostSandbox?
    let scanner: WorkspaceScanner
    /// Leave the workspace in place when the build ends.
    let keepWorkspace: Bool
    /// Notices phases that change `$HOME` or `/usr/local`.
    let outsideWatch: OutsideChangeWatch

    var sourceDirectory: String { workspace.buildDirectory }
    var identity: String { "host" }

    init(workspace: BuildWorkspace, sandbox: HostSandbox?, keepWorkspace: Bool, outsideWatch: OutsideChangeWatch) {
        self.workspace = workspace
        self.sandbox = sandbox
        self.keepWorkspace = keepWorkspace
        self.outsideWatch = outsideWatch
        self.scanner = WorkspaceScanner(sourceDirectory: workspace.hostDirectory)
    }

    func startSession(
        shell: String, workingDirectory: String, environment: [String: String], interruption: BuildInterruption?
    ) throws -> any CommandSession {
        var launcher = ShellLauncher.direct
        if let sandbox {
            let prefix = [sandbox.executable] + sandbox.arguments(binding: workspace.hostDirectory, at: sourceDirectory)
            launcher = ShellLauncher(passesEnvironment: true) { shell, directory in
                (Array(prefix.dropLast()) + ["--chdir", directory, "--", shell], "/")
            }
        }
        return try ShellSession(
            shell: shell, workingDirectory: workingDirectory, environment: environment, interruption: interruption,
            launcher: launcher
        )
    }

    func snapshot(extraRoots: [String]) async throws -> WorkspaceSnapshot {
        try scanner.snapshot(extraRoots: extraRoots)
    }

    func hostPath(_ path: String) -> String {
        workspace.hostPath(of: path) ?? path
    }

    func close() async {
        if !keepWorkspace { workspace.remove() }
    }
}
