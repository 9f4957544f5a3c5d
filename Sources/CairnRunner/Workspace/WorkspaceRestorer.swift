import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Applies recorded changes to the workspace: deletes, then directories, files and symlinks, parents first.
///
/// A file is downloaded to a temp name beside its destination and renamed over it, so a reader never sees half a
/// file; a file whose content is already right only gets its mode set.
struct WorkspaceRestorer {
    let store: any PhaseStore

    func apply(
        _ changes: WorkspaceChanges, current: WorkspaceSnapshot, absolute: (String) -> String
    ) async throws {
        var downloads: [(target: String, digest: BlobDigest, mode: UInt32, exists: Bool, size: Int64)] = []
        for path in changes.deleted.sorted(by: >) {
            try remove(absolute(path))
        }
        // Directories this restore made hold nothing it has not written: files in them need no existence check.
        var made: Set<String> = []
        var present: Set<String> = []
        for path in changes.changed.keys.sorted() {
            let record = changes.changed[path]!
            let target = absolute(path)
            let parent = Self.parent(of: target)
            if !parent.isEmpty && !present.contains(parent) && !made.contains(parent) {
                if access(parent, F_OK) == 0 {
                    present.insert(parent)
                } else {
                    try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
                    made.insert(parent)
                }
            }
            let fresh = made.contains(parent)
            switch record.kind {
            case .directory:
                var info = stat()
                if !fresh && lstat(target, &info) == 0 {
                    if (UInt32(info.st_mode) & UInt32(S_IFMT)) == UInt32(S_IFDIR) {
                        chmod(target, mode_t(record.mode))
                        present.insert(target)
                        continue
                    }
                    try remove(target)
                }
                if mkdir(target, mode_t(record.mode)) != 0 {
                    guard errno == EEXIST else {
                        throw RunnerError("cannot create directory \(target): \(String(cString: strerror(errno)))")
                    }
                    present.insert(target)
                } else {
                    made.insert(target)
                }
                chmod(target, mode_t(record.mode))
            case .symlink:
                if !fresh { try remove(target) }
                if symlink(record.target ?? "", target) != 0 {
                    throw RunnerError("cannot create symlink \(target): \(String(cString: strerror(errno)))")
                }
            case .file:
                guard let digest = record.digest else { continue }
                if let existing = current.entries[path], existing.kind == .file, existing.digest == digest {
                    chmod(target, mode_t(record.mode))
                    continue
                }
                var info = stat()
                var exists = !fresh && lstat(target, &info) == 0
                if exists && (UInt32(info.st_mode) & UInt32(S_IFMT)) == UInt32(S_IFDIR) {
                    try remove(target)
                    exists = false
                }
                downloads.append((target, digest, record.mode, exists, record.size))
            }
        }
        // A file that exists is replaced through a temp name beside it, renamed over it once every download is
        // complete, so that no reader sees half a file; a new file is written in place (removed on failure).
        let suffix = ".cairn-restore-\(UUID().uuidString.prefix(8))"
        let destinations = downloads.map { $0.exists ? $0.target + suffix : $0.target }
        var downloaded = false
        let progress = TransferProgress.current
        progress?.begin(files: downloads.count, bytes: downloads.reduce(0) { $0 + $1.size })
        do {
            defer { progress?.finish() }
            try await store.download(zip(downloads, destinations).map { (digest: $0.digest, path: $1) })
            downloaded = true
            // Downloads are created 0644 less the umask; only other modes need a chmod.
            let created = mode_t(0o644) & ~Self.umask
            for (download, destination) in zip(downloads, destinations) {
                if mode_t(download.mode) != created { chmod(destination, mode_t(download.mode)) }
                if destination != download.target && rename(destination, download.target) != 0 {
                    throw RunnerError("cannot write \(download.target): \(String(cString: strerror(errno)))")
                }
            }
        } catch {
            // Before every download finished, any new file may be partial; afterwards only temp names are left over.
            for destination in destinations where !downloaded || destination.hasSuffix(suffix) {
                unlink(destination)
            }
            throw error
        }
    }

    /// The process's umask, from /proc (reading it with umask(2) would briefly change it for every thread).
    static let umask: mode_t = {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("Umask:") }
        return line.flatMap { mode_t($0.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) }
            ?? 0o777  // unknown: every mode differs, so every file gets its chmod
    }()

    /// The directory part of an absolute path (`/a/b` for `/a/b/c`), empty for a name without one.
    static func parent(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) else { return "" }
        return slash == path.utf8.startIndex ? "/" : String(path[..<slash])
    }

    private func remove(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (UInt32(info.st_mode) & UInt32(S_IFMT)) == UInt32(S_IFDIR) {
            try FileManager.default.removeItem(atPath: path)
        } else if unlink(path) != 0 {
            throw RunnerError("cannot remove \(path): \(String(cString: strerror(errno)))")
        }
    }
}
