import CairnCore
import Foundation

/// Commands run in one container of the image the user named, from the first phase to the last; a phase's effect is
/// the change it made to the container's whole filesystem.
///
/// The workspace is bind-mounted at the canonical source path and scanned on the host, like a host build's; the
/// rest of the container (`/usr`, `/root`, `/opt`, `/tmp`, …) is seen through the engine's copy-on-write layer: the
/// paths its diff against the image lists, read through the container's merged root on the host. A restored
/// phase writes there, so the container sees it at once. The shell's scratch directory and the helper directory are
/// bind-mounted at their host paths, so the session works as on the host.
struct ContainerEnvironment: BuildEnvironment {
    let engine: ContainerEngine
    let container: BuildContainer
    /// The image as the user named it, and its digest (part of every phase key).
    let image: String
    let imageDigest: String
    let workspace: BuildWorkspace
    /// The container's filesystem on the host.
    let root: String
    /// The image's environment (`PATH`, `HOME`, …): what the build's environment starts from.
    let imageEnvironment: [String: String]
    let scanner: WorkspaceScanner
    let keepWorkspace: Bool
    /// Where the session's scratch files live, mounted in the container at the same path.
    let scratchDirectory: String
    /// Forwards an interruption to the commands in the container, which the shell's process group does not reach.
    let interruption: BuildInterruption?
    let interruptionAction: UUID?

    var sourceDirectory: String { workspace.buildDirectory }
    var identity: String { "image " + imageDigest }
    var baseEnvironment: [String: String]? { imageEnvironment }

    /// Resolves the image, starts the container with the workspace, the helper and scratch directories mounted, and
    /// reads the image's environment.
    static func start(
        engine: ContainerEngine, image: String, workspace: BuildWorkspace, helperDirectory: String, buildID: String,
        network: String?, privileged: Bool, keepWorkspace: Bool, console: BuildConsole,
        interruption: BuildInterruption?
    ) async throws -> ContainerEnvironment {
        let digest = try await engine.imageDigest(image)
        let removed = (try? await engine.removeLeftovers()) ?? []
        if !removed.isEmpty {
            console.line("[cairn] removed \(removed.count) containers left by builds that were killed")
        }
        let scratch = FileManager.default.temporaryDirectory.path + "/cairn-shell-\(UUID().uuidString.prefix(12))"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: helperDirectory, withIntermediateDirectories: true)
        let name =
            "cairn-"
            + buildID.replacingOccurrences(of: ":", with: "-").filter {
                $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "."
            }
        let container = try await engine.startContainer(
            image: digest, name: name,
            mounts: [
                ContainerMount(host: workspace.hostDirectory, container: workspace.buildDirectory),
                ContainerMount(host: helperDirectory, container: helperDirectory),
                ContainerMount(host: scratch, container: scratch),
            ],
            network: network, privileged: privileged
        )
        do {
            let root = try await container.mountRoot()
            var environment: [String: String] = [:]
            for line in try await engine.imageEnvironment(digest) {
                guard let equals = line.firstIndex(of: "=") else { continue }
                environment[String(line[..<equals])] = String(line[line.index(after: equals)...])
            }
            if environment["PATH"] == nil {
                environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
            }
            if environment["HOME"] == nil { environment["HOME"] = "/root" }
            // A second Ctrl-C (SIGKILL here) exits at once: the container goes first, with what runs in it.
            let action = interruption?.addAction { signal in
                if signal == SIGKILL { container.removeBlocking() } else { container.signalProcessesBlocking(signal) }
            }
            return ContainerEnvironment(
                engine: engine, container: container, image: image, imageDigest: digest, workspace: workspace,
                root: root, imageEnvironment: environment,
                scanner: WorkspaceScanner(sourceDirectory: workspace.hostDirectory), keepWorkspace: keepWorkspace,
                scratchDirectory: scratch, interruption: interruption, interruptionAction: action
            )
        } catch {
            try? await container.remove()
            throw error
        }
    }

    func startSession(
        shell: String, workingDirectory: String, environment: [String: String], interruption: BuildInterruption?
    ) throws -> any CommandSession {
        let container = self.container
        let launcher = ShellLauncher(passesEnvironment: false) { shell, directory in
            (container.execArguments(shell: shell, workingDirectory: directory), "/")
        }
        return try ShellSession(
            shell: shell, workingDirectory: workingDirectory, environment: environment, interruption: interruption,
            launcher: launcher, scratchDirectory: scratchDirectory
        )
    }

    func snapshot(extraRoots: [String]) async throws -> WorkspaceSnapshot {
        let changes = try await container.changes()
        var snapshot = try scanner.snapshot()
        let present = changes.filter { $0.kind != .deleted }.map(\.path)
        snapshot.entries.merge(try scanner.records(of: present, under: root)) { $1 }
        snapshot.absent = Set(changes.filter { $0.kind == .deleted }.map(\.path))
        return snapshot
    }

    func hostPath(_ path: String) -> String {
        workspace.hostPath(of: path) ?? root + path
    }

    func close() async {
        if let interruptionAction { interruption?.removeAction(interruptionAction) }
        try? await container.unmount()
        try? await container.remove()
        try? FileManager.default.removeItem(atPath: scratchDirectory)
        if !keepWorkspace { workspace.remove() }
    }
}
