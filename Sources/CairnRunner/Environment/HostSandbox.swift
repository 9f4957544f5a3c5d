import CairnCore
import Foundation

/// A private mount namespace for a host build (bubblewrap): the host's filesystem as it is, with the build's
/// workspace mounted at its canonical path, so several builds of one project can each see their own copy there.
///
/// Only `/codebuild` differs from the host (a fresh tmpfs holding the workspace); everything else is the host's
/// own directories bound in place, writable, so a host build can do what it could do outside. No
/// `--die-with-parent`: its signal follows the *thread* that started bwrap, and the runner's threads come and go;
/// the shell ends when `cairn` does anyway, at the end of its input.
struct HostSandbox: Sendable {
    /// The `bwrap` executable.
    let executable: String

    /// `bwrap` from `PATH`, when it is installed and can create a mount namespace here (it cannot in some
    /// unprivileged containers); nil otherwise.
    ///
    /// A probe that fails is tried again a few times: binding a host directory copies its submounts, and one that
    /// goes away meanwhile (a container engine unmounting a container's layers under `/var`) fails that one
    /// attempt with "Can't bind mount", which says nothing about whether sandboxes work here.
    static func locate() -> HostSandbox? {
        guard let executable = SpawnedProcess.locate("bwrap") else { return nil }
        let sandbox = HostSandbox(executable: executable)
        for attempt in 0..<5 {
            if attempt > 0 { usleep(useconds_t(100_000 * attempt)) }
            let probe = try? SpawnedProcess(
                executable: executable,
                arguments: sandbox.arguments(binding: "/", at: "/codebuild/probe") + ["/bin/true"],
                standardInput: .null, standardOutput: .null, standardError: .null
            )
            if probe?.waitUntilExit() == .exited(0) { return sandbox }
        }
        return nil
    }

    /// The arguments before the command: the host's top-level directories bound in place and `hostDirectory` at
    /// `buildDirectory` (which must be under `/codebuild`).
    func arguments(binding hostDirectory: String, at buildDirectory: String) -> [String] {
        var arguments: [String] = []
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: "/")) ?? []).sorted()
        for name in names where name != "codebuild" {
            let path = "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            switch UInt32(info.st_mode) & UInt32(S_IFMT) {
            case UInt32(S_IFLNK):
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) {
                    arguments += ["--symlink", target, path]
                }
            case UInt32(S_IFDIR): arguments += ["--dev-bind", path, path]
            default: continue
            }
        }
        var parent = ""
        for component in buildDirectory.split(separator: "/").dropLast() {
            parent += "/" + component
            arguments += ["--perms", "0755", "--dir", parent]
        }
        return arguments + ["--bind", hostDirectory, buildDirectory, "--"]
    }
}
