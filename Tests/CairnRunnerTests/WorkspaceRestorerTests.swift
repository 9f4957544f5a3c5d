import CairnCore
import Foundation
import Testing

@testable import CairnRunner

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Restoring recorded changes into a workspace")
struct WorkspaceRestorerTests {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("restore-\(UUID().uuidString)").path

    func write(_ path: String, _ text: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    func kind(_ path: String) -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { return "absent" }
        switch UInt32(info.st_mode) & UInt32(S_IFMT) {
        case UInt32(S_IFDIR): return "directory \(String(UInt32(info.st_mode) & 0o777, radix: 8))"
        case UInt32(S_IFLNK): return "symlink"
        default: return "file \(String(UInt32(info.st_mode) & 0o777, radix: 8))"
        }
    }

    @Test("new trees, and paths whose kind changed, end up exactly as recorded")
    func newAndReplacedPaths() async throws {
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try LocalPhaseStore(dataDirectory: root + "/store")
        let source = root + "/source"
        try write(source + "/a.txt", "alpha")
        try write(source + "/b.txt", "beta")
        let digestA = try WorkspaceScanner.hashFile(source + "/a.txt")
        let digestB = try WorkspaceScanner.hashFile(source + "/b.txt")
        try await store.upload(file: source + "/a.txt", digest: digestA)
        try await store.upload(file: source + "/b.txt", digest: digestB)

        // The workspace before: a file where a directory goes, a directory where a file goes, a symlink where a
        // file goes, an existing directory that stays, and a file already right.
        let workspace = root + "/workspace"
        try write(workspace + "/was-file", "in the way")
        try write(workspace + "/was-dir/inner", "in the way")
        try FileManager.default.createSymbolicLink(atPath: workspace + "/was-link", withDestinationPath: "/etc/passwd")
        try write(workspace + "/kept/same.txt", "alpha")
        try write(workspace + "/kept/old.txt", "stale")
        let current = try WorkspaceScanner(sourceDirectory: workspace).snapshot()

        let file = { (digest: BlobDigest, mode: UInt32) in FileRecord(kind: .file, mode: mode, digest: digest, size: 5)
        }
        let changes = WorkspaceChanges(
            changed: [
                "new": FileRecord(kind: .directory, mode: 0o750),
                "new/deeper": FileRecord(kind: .directory, mode: 0o755),
                "new/deeper/a.txt": file(digestA, 0o644),
                "new/deeper/run.sh": file(digestB, 0o755),
                "new/deeper/link": FileRecord(kind: .symlink, mode: 0, target: "a.txt"),
                "implicit/parents/b.txt": file(digestB, 0o600),
                "was-file": FileRecord(kind: .directory, mode: 0o755),
                "was-file/inside.txt": file(digestA, 0o644),
                "was-dir": file(digestB, 0o644),
                "was-link": file(digestA, 0o644),
                "kept/same.txt": file(digestA, 0o600),
                "kept/old.txt": file(digestB, 0o644),
            ],
            deleted: [])
        try await WorkspaceRestorer(store: store).apply(changes, current: current) { workspace + "/" + $0 }

        func read(_ path: String) -> String? {
            (try? Data(contentsOf: URL(fileURLWithPath: workspace + "/" + path))).map {
                String(decoding: $0, as: UTF8.self)
            }
        }
        #expect(kind(workspace + "/new") == "directory 750")
        #expect(kind(workspace + "/new/deeper") == "directory 755")
        #expect(read("new/deeper/a.txt") == "alpha" && kind(workspace + "/new/deeper/run.sh") == "file 755")
        #expect(read("new/deeper/run.sh") == "beta")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: workspace + "/new/deeper/link") == "a.txt")
        #expect(read("implicit/parents/b.txt") == "beta" && kind(workspace + "/implicit/parents/b.txt") == "file 600")
        #expect(kind(workspace + "/was-file") == "directory 755" && read("was-file/inside.txt") == "alpha")
        #expect(kind(workspace + "/was-dir") == "file 644" && read("was-dir") == "beta")
        #expect(kind(workspace + "/was-link") == "file 644" && read("was-link") == "alpha")
        #expect(read("kept/same.txt") == "alpha" && kind(workspace + "/kept/same.txt") == "file 600")
        #expect(read("kept/old.txt") == "beta")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: workspace).filter {
            $0.contains(".cairn-restore-")
        }
        #expect(leftovers.isEmpty)
    }
}
