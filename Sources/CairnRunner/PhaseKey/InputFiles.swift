import CairnCore
import Foundation

/// Chooses a phase's input files from a snapshot: the patterns of `cairn: phases.<name>.inputs`, or the whole
/// workspace (which holds only the build's sources — in a git checkout, tracked files and untracked files that are
/// not ignored — and what earlier phases of this build wrote).
public enum InputFiles {
    /// Relative path → `file:<x or ->:<digest>` or `symlink:<target>`, for the files that are inputs.
    ///
    /// `excluding` names the buildspec: each phase's commands and variables are in its key already, so editing
    /// one phase must not change the others' keys.
    public static func select(
        from snapshot: WorkspaceSnapshot, patterns: [String]?, excluding: Set<String> = []
    ) throws -> [String: String] {
        var candidates = snapshot.entries.filter {
            !$0.key.hasPrefix("/") && $0.value.kind != .directory && !excluding.contains($0.key)
        }
        if let patterns {
            let globs = try patterns.map(Glob.init)
            candidates = candidates.filter { entry in globs.contains { $0.matches(entry.key) } }
        }
        return candidates.mapValues { record in
            switch record.kind {
            // Only the executable bit, as git records it: another umask on another machine is the same input.
            case .file: "file:\(record.mode & 0o111 != 0 ? "x" : "-"):\(record.digest?.hex ?? "")"
            case .symlink: "symlink:\(record.target ?? "")"
            case .directory: "directory"
            }
        }
    }

    /// `git ls-files -co --exclude-standard`, relative to `directory`; nil outside a git work tree.
    public static func gitListedFiles(in directory: String) throws -> Set<String>? {
        guard mayBeGitWorkTree(directory),
            let output = run(["git", "-C", directory, "ls-files", "-z", "-c", "-o", "--exclude-standard"])
        else {
            return nil
        }
        return Set(output.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
    }

    /// The commit checked out in `directory`, when it is a git work tree with one.
    public static func gitCommit(in directory: String) -> String? {
        guard mayBeGitWorkTree(directory) else { return nil }
        return run(["git", "-C", directory, "rev-parse", "HEAD"]).map {
            String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// Whether `directory` may be in a git work tree: a `.git` in it or a parent, or git's own environment
    /// variables set. Outside one, asking git (a process each time) is skipped.
    static func mayBeGitWorkTree(_ directory: String) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        if environment["GIT_DIR"] != nil || environment["GIT_WORK_TREE"] != nil { return true }
        var path = URL(fileURLWithPath: directory).standardizedFileURL.path
        while true {
            if access(path + (path == "/" ? "" : "/") + ".git", F_OK) == 0 { return true }
            if path == "/" || path.isEmpty { return false }
            path = (path as NSString).deletingLastPathComponent
        }
    }

    /// The output of a command, or nil when it fails or cannot start.
    static func run(_ arguments: [String]) -> [UInt8]? {
        let output = Pipe()
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess(
                executable: "/usr/bin/env", arguments: arguments, standardInput: .null,
                standardOutput: .descriptor(output.fileHandleForWriting.fileDescriptor), standardError: .null
            )
        } catch {
            return nil
        }
        // The child holds the write end now; closing ours lets the read below end when the child does.
        try? output.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        return process.waitUntilExit() == .exited(0) ? Array(data) : nil
    }
}
