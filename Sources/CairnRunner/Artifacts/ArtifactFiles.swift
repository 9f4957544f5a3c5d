import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The files an `artifacts` (or `reports`) section selects: base directory, `files` globs, `exclude-paths`,
/// `discard-paths`.
struct ArtifactFiles {
    struct File {
        /// The path on disk.
        var path: String
        /// The name in the artifact.
        var name: String
        var mode: UInt32
        var symlinkTarget: String?
    }

    /// The files selected and the `files` patterns that selected none (CodeBuild skips those, and fails the
    /// artifact only when no pattern selected anything).
    struct Selection {
        var files: [File]
        var unmatchedPatterns: [String]
    }

    static func select(
        sourceDirectory: String, baseDirectory: String?, files: [String], excludePaths: [String], discardPaths: Bool,
        keepSymlinks: Bool
    ) throws -> Selection {
        let base = try resolveBase(sourceDirectory: sourceDirectory, baseDirectory: baseDirectory)
        let scanner = WorkspaceScanner(sourceDirectory: base)
        let snapshot = try scanner.snapshot()
        let includes = try files.map(Glob.init)
        let excludes = try excludePaths.map(Glob.init)
        var selected: [File] = []
        var names = Set<String>()
        var matched = Set<Int>()
        for (path, record) in snapshot.entries.sorted(by: { $0.key < $1.key }) where record.kind != .directory {
            let matching = files.indices.filter {
                includes[$0].matches(path) || isInside(path, directory: files[$0])
            }
            guard !matching.isEmpty else { continue }
            if excludes.contains(where: { $0.matches(path) }) { continue }
            matched.formUnion(matching)
            let name = discardPaths ? (path as NSString).lastPathComponent : path
            guard names.insert(name).inserted else {
                throw RunnerError("two artifact files would both be named '\(name)' (discard-paths: yes)")
            }
            let full = base + "/" + path
            if record.kind == .symlink && !keepSymlinks {
                // Without enable-symlinks, a link's target content is what gets uploaded.
                var info = stat()
                guard stat(full, &info) == 0, (UInt32(info.st_mode) & UInt32(S_IFMT)) == UInt32(S_IFREG) else {
                    continue
                }
                selected.append(File(path: full, name: name, mode: UInt32(info.st_mode) & 0o7777))
            } else {
                selected.append(File(path: full, name: name, mode: record.mode, symlinkTarget: record.target))
            }
        }
        return Selection(
            files: selected, unmatchedPatterns: files.indices.filter { !matched.contains($0) }.map { files[$0] })
    }

    private static func isInside(_ path: String, directory pattern: String) -> Bool {
        let trimmed = pattern.hasSuffix("/") ? String(pattern.dropLast()) : pattern
        return !trimmed.contains("*") && path.hasPrefix(trimmed + "/")
    }

    static func resolveBase(sourceDirectory: String, baseDirectory: String?) throws -> String {
        guard var base = baseDirectory, !base.isEmpty else { return sourceDirectory }
        if base.hasSuffix("/") { base.removeLast() }
        if !base.contains("*") && !base.contains("?") {
            let path = base.hasPrefix("/") ? base : sourceDirectory + "/" + base
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw RunnerError("no matching base directory path found for '\(base)'")
            }
            return path
        }
        let glob = try Glob(base)
        let directories = try WorkspaceScanner(sourceDirectory: sourceDirectory).snapshot().entries
            .filter { $0.value.kind == .directory && glob.matches($0.key) }.keys.sorted()
        guard let first = directories.first else {
            throw RunnerError("no matching base directory path found for '\(base)'")
        }
        return sourceDirectory + "/" + first
    }
}
