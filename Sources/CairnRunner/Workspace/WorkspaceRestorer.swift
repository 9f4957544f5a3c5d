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
        var downloads: [(target: String, digest: BlobDigest, mode: UInt32)] = []
        for path in changes.deleted.sorted(by: >) {
            try remove(absolute(path))
        }
        for path in changes.changed.keys.sorted() {
            let record = changes.changed[path]!
            let target = absolute(path)
            try makeParents(of: target)
            switch record.kind {
            case .directory:
                var info = stat()
                if lstat(target, &info) == 0 && (UInt32(info.st_mode) & UInt32(S_IFMT)) != UInt32(S_IFDIR) {
                    try remove(target)
                }
                if mkdir(target, mode_t(record.mode)) != 0 && errno != EEXIST {
                    throw RunnerError("cannot create directory \(target): \(String(cString: strerror(errno)))")
                }
                chmod(target, mode_t(record.mode))
            case .symlink:
                try remove(target)
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
                if lstat(target, &info) == 0 && (UInt32(info.st_mode) & UInt32(S_IFMT)) == UInt32(S_IFDIR) {
                    try remove(target)
                }
                downloads.append((target, digest, record.mode))
            }
        }
        let store = self.store
        try await forEachConcurrently(downloads, limit: 8) { target, digest, mode in
            let temporary = target + ".cairn-restore-\(UUID().uuidString.prefix(8))"
            do {
                try await store.download(digest, to: temporary)
                chmod(temporary, mode_t(mode))
                if rename(temporary, target) != 0 {
                    throw RunnerError("cannot write \(target): \(String(cString: strerror(errno)))")
                }
            } catch {
                unlink(temporary)
                throw error
            }
        }
    }

    private func makeParents(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        guard !parent.isEmpty, access(parent, F_OK) != 0 else { return }
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
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
