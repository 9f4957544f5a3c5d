import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One running container of a build, started by ``ContainerEngine/startContainer(image:name:mounts:network:privileged:)``:
/// the build's shells run in it, and its copy-on-write layer is what the build's phases changed.
///
/// The container stays up until ``remove()``: a shell that ends (a command ran `exit`) is started again in the same
/// container, with the files it left. Remove it when the build ends, also when it fails or is interrupted
/// (``removeBlocking()`` from a signal handler), and call ``ContainerEngine/removeLeftovers(label:)`` for those of
/// builds that were killed.
public struct BuildContainer: Sendable, Hashable {
    /// The engine that runs it.
    public let engine: ContainerEngine
    /// Its name, also the value of its ``ContainerEngine/buildLabel`` label.
    public let name: String
    /// Where host paths are mounted in it; ``changes()`` leaves them out.
    public let mountTargets: [String]

    init(engine: ContainerEngine, name: String, mounts: [String]) {
        self.engine = engine
        self.name = name
        self.mountTargets = mounts
    }

    /// The argv (engine path first) of a shell in the container that reads its commands from standard input:
    /// `podman exec -i -w DIR -e NAME… CONTAINER SHELL`.
    ///
    /// Start it with `SpawnedProcess(executable: arguments[0], arguments: Array(arguments.dropFirst()), …)`.
    /// The shell's environment is the image's (`PATH`, `HOME`) plus each of `environmentNames`, whose *values* the
    /// engine takes from its own environment, the one the process is started with: values never appear on a command
    /// line where `ps` would show them. A name the engine's environment does not have is not set.
    ///
    /// - Parameters:
    ///   - shell: the shell inside the container (`/bin/sh`, `bash`).
    ///   - workingDirectory: where the shell starts, an absolute path inside the container.
    ///   - environmentNames: the variables to pass into the container.
    public func execArguments(shell: String, workingDirectory: String, environmentNames: [String] = []) -> [String] {
        var arguments = [engine.executable, "exec", "--interactive"]
        // podman reads its detach keys (Ctrl-P Ctrl-Q) from an interactive exec's input even without a terminal;
        // a build's input is data, so none.
        if engine.kind == .podman { arguments.append("--detach-keys=") }
        arguments += ["--workdir", workingDirectory]
        for name in environmentNames { arguments += ["--env", name] }
        return arguments + [name, shell]
    }

    /// The host path of the container's whole filesystem (its overlay's merged directory) while it runs: reading
    /// there sees what the build wrote; writing there is what a restored phase does, and the container sees it at
    /// once. Call ``unmount()`` when done.
    ///
    /// - Throws: ``ContainerEngineError`` (``ContainerEngineError/Code/unsupported``) for rootless podman, whose
    ///   storage is mounted only inside its own user namespace (`podman unshare`): container builds need root there.
    public func mountRoot() async throws -> String {
        let arguments: [String]
        switch engine.kind {
        case .podman:
            guard geteuid() == 0 else {
                throw ContainerEngineError(
                    .unsupported,
                    "podman can mount the filesystem of container \(name) only as root (rootless podman mounts it"
                        + " only inside `podman unshare`): run the build as root or use --engine docker")
            }
            arguments = ["mount", name]
        case .docker:
            // docker has no `mount`; overlay2 keeps the running container's merged directory at this path.
            arguments = ["inspect", "--format", "{{.GraphDriver.Data.MergedDir}}", name]
        }
        let path = try await engine.output(arguments).trimmingCharacters(in: .whitespacesAndNewlines)
        guard path.hasPrefix("/") else {
            throw ContainerEngineError(
                .unsupported, "\(engine.kind.rawValue) reports no host path for the filesystem of container \(name)")
        }
        return path
    }

    /// Releases the mount ``mountRoot()`` asked for (podman counts them); nothing to do for docker.
    public func unmount() async throws {
        guard engine.kind == .podman else { return }
        _ = try await engine.output(["umount", name])
    }

    /// Stops the container at once and removes it with its anonymous volumes; a container already gone is not an
    /// error.
    public func remove() async throws {
        let result = try await engine.run(removeArguments)
        guard result.status == 0 || !exists(after: result) else {
            throw ContainerEngineError(
                .commandFailed, "\(engine.commandLine(removeArguments)) failed: \(result.reason)")
        }
    }

    /// ``remove()``, best effort and blocking the calling thread (about a second): for a signal handler or a `defer`,
    /// where nothing can be awaited.
    public func removeBlocking() {
        engine.runBlocking(removeArguments)
    }

    /// `rm -f`: the keep-alive shell is the container's process 1, which ignores SIGTERM, so podman is told not to
    /// wait for it (its default is ten seconds).
    private var removeArguments: [String] {
        switch engine.kind {
        case .podman: ["rm", "--force", "--volumes", "--time", "0", name]
        case .docker: ["rm", "--force", "--volumes", name]
        }
    }

    /// Whether a failed `rm` left the container in place (rather than finding none).
    private func exists(after result: ContainerEngine.CommandResult) -> Bool {
        let reason = result.errorOutput.lowercased()
        return !(reason.contains("no such container") || reason.contains("no container with"))
    }
}
