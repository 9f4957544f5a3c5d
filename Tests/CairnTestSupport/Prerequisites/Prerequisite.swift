import CairnCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Something a test needs from the machine: a command on the PATH, a Python module, or root.
public enum Prerequisite: Sendable, Hashable {
    case command(String)
    case pythonModule(String)
    case root

    /// Whether this machine has it.
    public var isMet: Bool {
        switch self {
        case .command(let name): Self.path(of: name) != nil
        case .pythonModule(let module): Self.pythonHas(module)
        case .root: geteuid() == 0
        }
    }

    /// What is missing and how to get it, e.g. "rclone is not installed (apt-get install rclone)".
    public var missingMessage: String {
        switch self {
        case .command(let name):
            "\(name) is not installed (apt-get install \(Self.debianPackage(of: name)))"
        case .pythonModule(let module):
            "the Python module \(module) is not installed (python3 -m pip install \(module))"
        case .root:
            "the test must run as root"
        }
    }

    /// The path of an executable on the PATH, or nil.
    public static func path(of name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").lazy.map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The Debian package a command comes from, where its name differs.
    private static func debianPackage(of command: String) -> String {
        switch command {
        case "cc": "gcc"
        case "bazel": "bazel-bootstrap"
        case "aws": "awscli"
        case "mount", "umount": "mount"
        case "dd", "sha256sum": "coreutils"
        case "sh": "dash"
        default: command
        }
    }

    /// Modules already looked for: each costs a Python start, and every gated test's trait asks at discovery.
    private static let pythonModules = Mutex<[String: Bool]>([:])

    private static func pythonHas(_ module: String) -> Bool {
        if let known = pythonModules.withLock({ $0[module] }) { return known }
        // Synchronous: traits are evaluated where nothing can be awaited, once per module, before tests run.
        let probe = try? SpawnedProcess(
            executable: "/usr/bin/env", arguments: ["python3", "-c", "import \(module)"],
            environment: ProcessInfo.processInfo.environment, standardInput: .null, standardOutput: .null,
            standardError: .null)
        let found = path(of: "python3") != nil && probe?.waitUntilExit().status == 0
        pythonModules.withLock { $0[module] = found }
        return found
    }
}
