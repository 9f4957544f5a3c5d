import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Every file, directory and symlink under a set of roots, with content digests.
///
/// Paths under the source directory are relative (`src/main.c`); paths under other roots (declared outputs, cache
/// paths) are absolute. The source directory's top-level `.git` is left out.
public struct WorkspaceSnapshot: Sendable, Hashable {
    public var entries: [String: FileRecord]
    /// Paths known to be gone from a base the snapshot lists only the differences to (a container's image): a
    /// deletion there is a change although no entry recorded the path before.
    public var absent: Set<String>

    public init(entries: [String: FileRecord] = [:], absent: Set<String> = []) {
        self.entries = entries
        self.absent = absent
    }

    /// The changes that turn `self` into `later`.
    public func changes(to later: WorkspaceSnapshot) -> WorkspaceChanges {
        var changed: [String: FileRecord] = [:]
        for (path, record) in later.entries where entries[path] != record {
            changed[path] = record
        }
        var deleted = Set(entries.keys.filter { later.entries[$0] == nil })
        deleted.formUnion(later.absent.subtracting(absent))
        return WorkspaceChanges(changed: changed, deleted: deleted.sorted())
    }
}

/// Created or changed entries and deleted paths between two snapshots.
public struct WorkspaceChanges: Sendable, Hashable, Codable {
    public var changed: [String: FileRecord]
    public var deleted: [String]

    public var isEmpty: Bool { changed.isEmpty && deleted.isEmpty }
}

/// Takes snapshots, remembering file digests by inode, size and times so unchanged files are not hashed again.
public final class WorkspaceScanner: @unchecked Sendable {  // used by one build task at a time
    private struct StatKey: Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
        var changed: Int64
    }

    public let sourceDirectory: String
    private var digests: [String: (StatKey, BlobDigest)] = [:]

    public init(sourceDirectory: String) {
        self.sourceDirectory = sourceDirectory
    }

    /// Snapshots the source directory and the given absolute roots (missing roots are empty).
    public func snapshot(extraRoots: [String] = []) throws -> WorkspaceSnapshot {
        var entries: [String: FileRecord] = [:]
        let now = Date().timeIntervalSince1970
        try walk(directory: sourceDirectory, relative: "", entries: &entries, now: now, skipGit: true)
        for root in extraRoots {
            var info = stat()
            guard lstat(root, &info) == 0 else { continue }
            if let record = try record(path: root, info: info, now: now) {
                entries[root] = record
                if record.kind == .directory {
                    try walk(directory: root, relative: root, entries: &entries, now: now, skipGit: false)
                }
            }
        }
        return WorkspaceSnapshot(entries: entries)
    }

    /// Records of the given absolute paths as they are under `root` on this machine (a container's filesystem),
    /// keyed by the paths themselves; directories are recorded but not walked, missing paths left out.
    public func records(of paths: [String], under root: String) throws -> [String: FileRecord] {
        var entries: [String: FileRecord] = [:]
        let now = Date().timeIntervalSince1970
        for path in paths {
            var info = stat()
            guard lstat(root + path, &info) == 0, let record = try record(path: root + path, info: info, now: now)
            else { continue }
            entries[path] = record
        }
        return entries
    }

    private func walk(
        directory: String, relative: String, entries: inout [String: FileRecord], now: TimeInterval, skipGit: Bool
    ) throws {
        guard let handle = opendir(directory) else { return }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if skipGit && name == ".git" { continue }
            names.append(name)
        }
        for name in names {
            let path = directory + "/" + name
            let key = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            guard let record = try record(path: path, info: info, now: now) else { continue }
            entries[key] = record
            if record.kind == .directory {
                try walk(directory: path, relative: key, entries: &entries, now: now, skipGit: false)
            }
        }
    }

    private func record(path: String, info: stat, now: TimeInterval) throws -> FileRecord? {
        let mode = UInt32(info.st_mode) & 0o7777
        switch UInt32(info.st_mode) & UInt32(S_IFMT) {
        case UInt32(S_IFDIR):
            return FileRecord(kind: .directory, mode: mode)
        case UInt32(S_IFLNK):
            var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = buffer.withUnsafeMutableBytes { readlink(path, $0.baseAddress!, $0.count - 1) }
            guard length >= 0 else { return nil }
            return FileRecord(kind: .symlink, mode: 0, target: String(decoding: buffer[0..<length], as: UTF8.self))
        case UInt32(S_IFREG):
            let key = StatKey(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                changed: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec)
            )
            let digest: BlobDigest
            if let cached = digests[path], cached.0 == key {
                digest = cached.1
            } else {
                digest = try Self.hashFile(path)
                // A file changed within the last seconds could change again without its times moving (coarse
                // clocks): only remember digests of files that have been still for a while.
                if Double(info.st_mtim.tv_sec) < now - 2 && Double(info.st_ctim.tv_sec) < now - 2 {
                    digests[path] = (key, digest)
                }
            }
            return FileRecord(kind: .file, mode: mode, digest: digest, size: Int64(info.st_size))
        default:
            return nil  // sockets, FIFOs and devices are not build outputs
        }
    }

    /// The SHA-256 of a file's content.
    public static func hashFile(_ path: String) throws -> BlobDigest {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw RunnerError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(descriptor) }
        let digest = MessageDigest(.sha256)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw RunnerError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { digest.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        return BlobDigest(bytes: digest.finalize())
    }
}
