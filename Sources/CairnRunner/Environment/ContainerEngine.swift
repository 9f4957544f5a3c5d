import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The container engine a build runs its image with: the `podman` (the default) or `docker` command-line tool.
///
/// A thin wrapper over the engine's CLI, started through ``SpawnedProcess`` and awaited without holding a thread of
/// the cooperative pool. It resolves an image to its content identity (``imageDigest(_:)``), starts one long-lived
/// container per build (``startContainer(image:name:mounts:network:privileged:)``) and finds the containers of
/// builds that died (``removeLeftovers(label:)``); the container itself is a ``BuildContainer``.
///
/// Host-specific settings (the OCI runtime, default ulimits, cgroup manager) are not passed on the command line:
/// they belong in the engine's own configuration (`/etc/containers/containers.conf` for podman), so a build runs
/// the same way as the user's own `podman run` on that machine.
public struct ContainerEngine: Sendable, Hashable {
    /// Which engine: their command-line tools differ in a few places (`diff` output, `mount`).
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case podman
        case docker
    }

    /// The label every build container carries, valued with the container's name; ``removeLeftovers(label:)`` looks
    /// for it.
    public static let buildLabel = "cairn.build"
    /// The label naming the process id of the `cairn` that started the container, so a leftover of a build that
    /// died can be told from a container of a build still running.
    public static let ownerLabel = "cairn.pid"

    /// Which engine this is.
    public let kind: Kind
    /// The absolute path of its command-line tool.
    public let executable: String

    /// An engine whose tool is at `executable`; ``locate(_:)`` finds it on the `PATH`.
    public init(kind: Kind, executable: String) {
        self.kind = kind
        self.executable = executable
    }

    /// Finds the engine named `name` (`"podman"` when nil, or `"docker"`) on the `PATH`.
    ///
    /// - Throws: ``ContainerEngineError`` (``ContainerEngineError/Code/engineNotInstalled``) with a one-line fix when
    ///   the name is not an engine Cairn knows or its tool is not installed.
    public static func locate(
        _ name: String?, path: String = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    ) throws -> ContainerEngine {
        let name = name ?? Kind.podman.rawValue
        guard let kind = Kind(rawValue: name.lowercased()) else {
            throw ContainerEngineError(
                .engineNotInstalled, "unknown container engine '\(name)': use podman (the default) or docker")
        }
        guard let executable = SpawnedProcess.locate(kind.rawValue, searchPath: path) else {
            let fix =
                switch kind {
                case .podman: "install it (apt-get install podman runc) or use --engine docker"
                case .docker: "install it (apt-get install docker.io) and start its daemon, or use podman (the default)"
                }
            throw ContainerEngineError(.engineNotInstalled, "\(kind.rawValue) is not installed: \(fix)")
        }
        return ContainerEngine(kind: kind, executable: executable)
    }

    /// The content identity of `image`: its image ID (`sha256:…`, the digest of its configuration, which names
    /// every layer's content), never the tag, which may point elsewhere tomorrow.
    ///
    /// An image that is not on this machine is pulled first, as `podman run` would.
    ///
    /// - Throws: ``ContainerEngineError`` (``ContainerEngineError/Code/unknownImage``) naming the image and the
    ///   engine's reason when it is neither here nor can be pulled.
    public func imageDigest(_ image: String) async throws -> String {
        if let identity = try await imageID(image) { return identity }
        let pull = try await run(["pull", image])
        guard pull.status == 0 else {
            throw ContainerEngineError(
                .unknownImage,
                "image '\(image)' is not on this machine and \(kind.rawValue) cannot pull it: \(pull.reason)"
                    + " (check the name, or build or pull it first)")
        }
        guard let identity = try await imageID(image) else {
            throw ContainerEngineError(.unknownImage, "image '\(image)' was pulled but \(kind.rawValue) cannot find it")
        }
        return identity
    }

    /// The image's ID, or nil when the engine has no image of that name.
    ///
    /// - Throws: ``ContainerEngineError`` when the engine fails otherwise (no docker daemon), so that is not taken
    ///   for a missing image and pulled.
    private func imageID(_ image: String) async throws -> String? {
        let arguments = ["image", "inspect", "--format", "{{.Id}}", image]
        let inspect = try await run(arguments)
        guard inspect.status == 0 else {
            let reason = inspect.errorOutput.lowercased()
            // podman: "image not known"; docker: "No such image" (older clients: "No such object").
            if ["image not known", "no such image", "no such object"].contains(where: reason.contains) { return nil }
            throw ContainerEngineError(.commandFailed, "\(commandLine(arguments)) failed: \(inspect.reason)")
        }
        let identity = inspect.output.trimmingCharacters(in: .whitespacesAndNewlines)
        // podman prints the bare hexadecimal digest, docker prefixes the algorithm.
        return identity.contains(":") ? identity : "sha256:" + identity
    }

    /// Starts a container of `image` that stays up until it is removed, for a build's commands to be run in with
    /// ``BuildContainer/execArguments(shell:workingDirectory:environmentNames:)``.
    ///
    /// The container's main process is `/bin/sh` reading a standard input that the engine keeps open and nobody
    /// writes to (`run -d -i --entrypoint /bin/sh`): it needs nothing of the image but a shell (no `sleep`), and it
    /// outlives every shell a build starts and restarts in it. The image's own `ENTRYPOINT` and `CMD` do not run.
    /// The container is labelled ``buildLabel``=`name` and ``ownerLabel``=this process's id.
    ///
    /// - Parameters:
    ///   - image: what to run; pass the ID from ``imageDigest(_:)`` to run exactly the image a phase key names.
    ///   - name: the container's name, unique on this machine (a build's id).
    ///   - mounts: host paths bind-mounted into the container (the workspace); neither path may contain `:`.
    ///   - network: the network mode (`"none"`, `"host"`, a network's name); nil for the engine's default.
    ///   - privileged: CodeBuild's privileged mode: every capability and device, so the build can run containers
    ///     itself.
    /// - Throws: ``ContainerEngineError`` with the engine's reason when the container does not start; nothing of it
    ///   is left behind then.
    public func startContainer(
        image: String, name: String, mounts: [ContainerMount] = [], network: String? = nil, privileged: Bool = false
    ) async throws -> BuildContainer {
        if let mount = mounts.first(where: { $0.host.contains(":") || $0.container.contains(":") }) {
            throw ContainerEngineError(
                .commandFailed, "cannot mount \(mount.host) at \(mount.container): a path with ':' cannot be mounted")
        }
        var arguments = [
            "run", "--detach", "--interactive", "--name", name, "--label", "\(Self.buildLabel)=\(name)",
            "--label", "\(Self.ownerLabel)=\(getpid())", "--entrypoint", "/bin/sh",
        ]
        if let network { arguments += ["--network", network] }
        if privileged { arguments.append("--privileged") }
        for mount in mounts { arguments += ["--volume", mount.volumeArgument] }
        arguments.append(image)
        let started = try await run(arguments)
        let container = BuildContainer(engine: self, name: name, mounts: mounts.map(\.container))
        guard started.status == 0 else {
            // A container that was created but failed to start keeps its name taken; one that already had the name
            // belongs to someone else.
            if !started.errorOutput.contains("already in use") { try? await container.remove() }
            throw ContainerEngineError(
                .commandFailed, "cannot start a container of \(image) with \(kind.rawValue): \(started.reason)")
        }
        return container
    }

    /// Removes the containers labelled `label` (a key, or `key=value`) whose `cairn` process has ended: those of
    /// builds that were killed before they could clean up. Containers of builds still running are kept.
    ///
    /// - Returns: the names of the containers removed.
    @discardableResult
    public func removeLeftovers(label: String = ContainerEngine.buildLabel) async throws -> [String] {
        // podman's `.Labels` is a map; docker's is a string, with a `.Label` method instead.
        let owner =
            switch kind {
            case .podman: "{{index .Labels \"\(Self.ownerLabel)\"}}"
            case .docker: "{{.Label \"\(Self.ownerLabel)\"}}"
            }
        let listed = try await output(["ps", "--all", "--filter", "label=\(label)", "--format", "{{.Names}}\t" + owner])
        var removed: [String] = []
        for line in listed.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let name = fields.first, !name.isEmpty else { continue }
            if fields.count > 1, let owner = pid_t(fields[1]), Self.isRunning(owner) { continue }
            try await BuildContainer(engine: self, name: name, mounts: []).remove()
            removed.append(name)
        }
        return removed
    }

    /// Whether a process with that id exists on this machine (a process of another user counts).
    private static func isRunning(_ pid: pid_t) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }
}
