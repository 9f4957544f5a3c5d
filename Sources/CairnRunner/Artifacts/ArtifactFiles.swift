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

    static func select(
        sourceDirectory: String, baseDirectory: String?, files: [String], excludePaths: [String], discardPaths: Bool,
        keepSymlinks: Bool
    ) throws -> [File] {
        let base = try resolveBase(sourceDirectory: sourceDirectory, baseDirectory: baseDirectory)
        let scanner = WorkspaceScanner(sourceDirectory: base)
        let snapshot = try scanner.snapshot()
        let includes = try files.map(Glob.init)
        let excludes = try excludePaths.map(Glob.init)
        var selected: [File] = []
        var names = Set<String>()
        for (path, record) in snapshot.entries.sorted(by: { $0.key < $1.key }) where record.kind != .directory {
            guard
                includes.contains(where: { $0.matches(path) })
                    || files.contains(where: { isInside(path, directory: $0) })
            else { continue }
            if excludes.contains(where: { $0.matches(path) }) { continue }
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
        return selected
    }

    private static func isInside(_ path: String, directory pattern: String) -> Bool {
        let trimmed = pattern.hasSuffix("/") ? String(pattern.dropLast()) : pattern
        return !trimmed.contains("*") && path.hasPrefix(trimmed + "/")
    }

    static func resolveBase(sourceDirectory: String, baseDirectory: String?) throws -> String {
        guard var base = baseDirectory, !base.isEmpty else { return sourceDirectory }
        if base.hasSuffix("/") { base.removeLast() }
        if !base.contains("*") && !base.contains("?") {
            return base.hasPrefix("/") ? base : sourceDirectory + "/" + base
        }
        let glob = try Glob(base)
        let directories = try WorkspaceScanner(sourceDirectory: sourceDirectory).snapshot().entries
            .filter { $0.value.kind == .directory && glob.matches($0.key) }.keys.sorted()
        guard let first = directories.first else {
            throw RunnerError("base-directory '\(base)' matches no directory")
        }
        return sourceDirectory + "/" + first
    }
}
