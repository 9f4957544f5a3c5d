import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A build's own copy of its source: exactly the build's inputs, never the leftovers of earlier builds.
///
/// In a git checkout the inputs are the tracked files and the untracked files that are not ignored, at their
/// current content (what `git ls-files -co --exclude-standard` lists); elsewhere every file but `.git`. The files
/// are copied, not linked: a command that appends to a source file must not change the user's checkout, and ext4
/// has no reflinks. The commands see the copy at ``buildDirectory``, a path that is the same on every machine and in
/// every build of a project (CodeBuild's is under `/codebuild/output/`), so files that embed it restore anywhere.
struct BuildWorkspace: Sendable {
    /// Where the files are on this machine.
    let hostDirectory: String
    /// Where the build's commands see them.
    let buildDirectory: String
    /// Held while a workspace at a fixed host path is in use.
    private var lock: WorkspaceLock?

    /// The path every build sees its source at, whatever the project or the checkout's name, so two clones in
    /// differently named directories share their entries.
    static let canonicalDirectory = "/codebuild/output/src"

    /// A name for a workspace directory of `projectName`: letters, digits, `-`, `_` and `.` only.
    static func directoryName(projectName: String) -> String {
        let safe = String(
            projectName.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" })
        return safe.isEmpty || safe.allSatisfy { $0 == "." } ? "src" : safe
    }

    /// The directory new workspaces go in by default: `$XDG_CACHE_HOME/cairn-workspaces`, else
    /// `~/.cache/cairn-workspaces` (on disk, not a RAM-backed `/tmp`).
    static func defaultRoot(environment: [String: String]) -> String {
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/cairn-workspaces" }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.cache/cairn-workspaces"
    }

    /// Copies the inputs of `source` into a new directory under `root`, which the commands see at
    /// `buildDirectory`.
    ///
    /// Without a `buildDirectory` (no mount namespace to show it elsewhere) the commands see the workspace where it
    /// is, so its path is the same in every build of the project on this machine: `root/<name>`, or `<name>-2`, …
    /// while another build of the project holds it.
    static func create(from source: String, under root: String, buildDirectory: String?, name: String) throws
        -> BuildWorkspace
    {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        sweepTrash(under: root)
        var host = root + "/" + UUID().uuidString.lowercased().prefix(13)
        var lock: WorkspaceLock?
        if buildDirectory == nil {
            var attempt = 1
            while true {
                host = root + "/" + name + (attempt == 1 ? "" : "-\(attempt)")
                if let held = try WorkspaceLock(path: host + ".lock") {
                    lock = held
                    break
                }
                attempt += 1
            }
            try? FileManager.default.removeItem(atPath: host)  // a build that was killed left it
        }
        guard mkdir(host, 0o755) == 0 else {
            throw RunnerError("cannot create the build's workspace \(host): \(String(cString: strerror(errno)))")
        }
        var workspace = BuildWorkspace(hostDirectory: host, buildDirectory: buildDirectory ?? host)
        workspace.lock = lock
        do {
            var copier = TreeCopier(source: source, destination: host)
            if let listed = try InputFiles.gitListedFiles(in: source) {
                for path in listed.sorted() { try copier.copy(path, recursive: true) }
            } else {
                try copier.copyChildren(of: "")
            }
        } catch {
            workspace.remove()
            throw error
        }
        return workspace
    }

    /// Deletes the workspace.
    /// Where a path as the build sees it is on this machine, when it is in the workspace.
    func hostPath(of path: String) -> String? {
        if path == buildDirectory { return hostDirectory }
        guard path.hasPrefix(buildDirectory + "/") else { return nil }
        return hostDirectory + path.dropFirst(buildDirectory.count)
    }

    /// Deletes the workspace without making the build wait for it: it is renamed aside at once (nothing sees it
    /// at its path any more) and a detached `rm -rf` deletes it, which for thousands of files takes a while. What a
    /// killed `rm` leaves is deleted by the next build (``sweepTrash(under:)``).
    func remove() {
        let root = (hostDirectory as NSString).deletingLastPathComponent
        let trash = root + "/" + Self.trashPrefix + UUID().uuidString.prefix(13).lowercased()
        guard rename(hostDirectory, trash) == 0 else {
            try? FileManager.default.removeItem(atPath: hostDirectory)
            return
        }
        Self.deleteDetached([trash])
    }

    /// Names of workspaces being deleted.
    static let trashPrefix = ".deleting-"

    /// Starts deleting what earlier builds under `root` left to delete.
    static func sweepTrash(under root: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let trash = names.filter { $0.hasPrefix(trashPrefix) }.map { root + "/" + $0 }
        if !trash.isEmpty { deleteDetached(trash) }
    }

    /// `rm -rf` in a process of its own that nobody waits for: it finishes after `cairn` has exited if need be.
    private static func deleteDetached(_ paths: [String]) {
        let process = try? SpawnedProcess(
            executable: "/bin/rm", arguments: ["-rf", "--"] + paths, standardInput: .null, standardOutput: .null,
            standardError: .null, newProcessGroup: true
        )
        // Reaped in the background, so it does not linger as a zombie while this process lives.
        if let process { Task.detached { _ = await process.waitForExit() } }
    }
}

/// Copies files from one tree into another, creating parent directories with their source modes.
private struct TreeCopier {
    let source: String
    let destination: String
    private var createdDirectories: Set<String> = [""]

    init(source: String, destination: String) {
        self.source = source
        self.destination = destination
    }

    /// Copies one relative path; a directory (a submodule, or a walked one) is copied whole when `recursive`.
    mutating func copy(_ relative: String, recursive: Bool) throws {
        let from = source + "/" + relative
        var info = stat()
        // Listed but deleted in the checkout: not an input of this build.
        guard lstat(from, &info) == 0 else { return }
        try ensureParent(of: relative)
        let to = destination + "/" + relative
        let mode = UInt32(info.st_mode) & 0o7777
        switch UInt32(info.st_mode) & UInt32(S_IFMT) {
        case UInt32(S_IFREG):
            try copyFile(from, to: to, mode: mode_t(mode), size: Int(info.st_size))
        case UInt32(S_IFLNK):
            var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = buffer.withUnsafeMutableBytes { readlink(from, $0.baseAddress!, $0.count - 1) }
            guard length >= 0 else { throw Self.error("cannot read the link \(from)") }
            let target = String(decoding: buffer[0..<length], as: UTF8.self)
            guard symlink(target, to) == 0 else { throw Self.error("cannot create the link \(to)") }
        case UInt32(S_IFDIR):
            if !createdDirectories.contains(relative) {
                guard mkdir(to, mode_t(mode | 0o700)) == 0 || errno == EEXIST else {
                    throw Self.error("cannot create \(to)")
                }
                createdDirectories.insert(relative)
            }
            if recursive { try copyChildren(of: relative) }
        default:
            return  // sockets, FIFOs and devices are not sources
        }
    }

    /// Copies everything in a directory but `.git`.
    mutating func copyChildren(of relative: String) throws {
        let directory = relative.isEmpty ? source : source + "/" + relative
        guard let handle = opendir(directory) else { throw Self.error("cannot read \(directory)") }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." && name != ".git" { names.append(name) }
        }
        closedir(handle)
        for name in names.sorted() { try copy(relative.isEmpty ? name : relative + "/" + name, recursive: true) }
    }

    private mutating func ensureParent(of relative: String) throws {
        guard let slash = relative.lastIndex(of: "/") else { return }
        let parent = String(relative[..<slash])
        if createdDirectories.contains(parent) { return }
        try ensureParent(of: parent)
        var info = stat()
        let mode = lstat(source + "/" + parent, &info) == 0 ? UInt32(info.st_mode) & 0o7777 : 0o755
        guard mkdir(destination + "/" + parent, mode_t(mode | 0o700)) == 0 || errno == EEXIST else {
            throw Self.error("cannot create \(destination)/\(parent)")
        }
        createdDirectories.insert(parent)
    }

    static func error(_ message: String) -> RunnerError {
        RunnerError("\(message): \(String(cString: strerror(errno)))")
    }
}
