import CairnCore
import Foundation

/// The container images the tests run, built on this machine from Debian's packages, with no network.
///
/// - ``busybox()``: a root filesystem of `busybox-static` with the applets a build's commands use, built on first
///   use in a few seconds and kept in podman's storage, so later runs find it (`podman image exists`).
/// - ``bookworm``: Debian bookworm (`debootstrap --variant=minbase`) with python3 and python3-venv, and jq's
///   packages in apt's cache for an offline `apt-get install --no-download jq`. Building it takes minutes and the
///   network, so `.ci/container-images` builds it and tests only check for it (`.requires("podman", images:
///   [ContainerImages.bookworm])`).
public enum ContainerImages {
    /// The busybox image's name; its tag follows the applet list, so a new list builds a new image rather than
    /// finding an old one.
    public static let busyboxName =
        "localhost/cairn-test-busybox:"
        + MessageDigest.hash(.sha256, Array(busyboxApplets.joined(separator: " ").utf8)).hexString.prefix(12)
    /// The Debian image's name.
    public static let bookworm = "localhost/cairn-test-bookworm"

    /// The busybox applets linked in `/bin`: what a buildspec's commands and the tests use.
    public static let busyboxApplets = [
        "sh", "ash", "echo", "cat", "mkdir", "cp", "mv", "rm", "ln", "ls", "chmod", "chown", "touch", "sleep", "test",
        "[", "printf", "sha256sum", "find", "tar", "gzip", "gunzip", "env", "id", "pwd", "grep", "sed", "awk", "head",
        "tail", "wc", "sort", "cut", "tr", "true", "false", "uname", "date", "dirname", "basename", "readlink", "stat",
        "xargs", "mktemp", "diff", "cmp", "mount", "umount", "ip", "hostname", "wget", "nc", "which", "whoami", "ps",
        "kill",
    ]

    /// The busybox image's name, once it exists: built the first time any test asks, once per test process.
    public static func busybox() async throws -> String {
        try await busyboxBuild.value
    }

    private static let busyboxBuild = Task { try await buildBusybox() }

    private static func buildBusybox() async throws -> String {
        if try await ChildProcess.run(["podman", "image", "exists", busyboxName]).status == 0 { return busyboxName }
        let busybox = "/bin/busybox"
        guard FileManager.default.isExecutableFile(atPath: busybox) else {
            throw CommandFailure(description: "\(busybox) is missing (apt-get install busybox-static)")
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-busybox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let rootfs = scratch.appendingPathComponent("rootfs")
        let files = FileManager.default
        for directory in ["bin", "sbin", "etc", "root", "tmp", "usr/bin", "usr/local/bin", "var/tmp"] {
            try files.createDirectory(
                at: rootfs.appendingPathComponent(directory), withIntermediateDirectories: true)
        }
        try files.copyItem(atPath: busybox, toPath: rootfs.appendingPathComponent("bin/busybox").path)
        for applet in busyboxApplets {
            try files.createSymbolicLink(
                atPath: rootfs.appendingPathComponent("bin/\(applet)").path, withDestinationPath: "busybox")
        }
        try Data("root:x:0:0:root:/root:/bin/sh\n".utf8).write(to: rootfs.appendingPathComponent("etc/passwd"))
        try Data("root:x:0:\n".utf8).write(to: rootfs.appendingPathComponent("etc/group"))
        try files.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: rootfs.appendingPathComponent("tmp").path)
        try files.setAttributes(
            [.posixPermissions: 0o1777], ofItemAtPath: rootfs.appendingPathComponent("var/tmp").path)
        try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: rootfs.appendingPathComponent("root").path)
        let archive = scratch.appendingPathComponent("rootfs.tar").path
        try await ChildProcess.output(
            ["tar", "-C", rootfs.path, "--numeric-owner", "--owner=0", "--group=0", "-cf", archive, "."],
            in: scratch.path)
        try await ChildProcess.output(
            ["podman", "import", "--change", "CMD [\"/bin/sh\"]", archive, busyboxName], in: scratch.path)
        return busyboxName
    }
}
