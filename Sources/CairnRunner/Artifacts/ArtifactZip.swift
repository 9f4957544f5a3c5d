import Foundation
import ZIPFoundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes an artifact's files as one zip, as CodeBuild packages artifacts: files deflated, symlinks kept as links
/// (with `enable-symlinks`), permission bits in the Unix attributes.
///
/// Each file streams from disk through the compressor, so memory stays flat whatever the size; entries and archives
/// past 4 GiB get zip64 records. Every entry carries the same time (1980-01-01 00:00 UTC, the earliest a zip can
/// hold), so the same files make the same archive, and the store keeps it once.
enum ArtifactZip {
    /// The one modification time of every entry.
    static let entryDate = Date(timeIntervalSince1970: 315_532_800)

    /// Writes `files` to a new archive at `destination`, in the order given.
    static func write(_ files: [ArtifactFiles.File], to destination: String) throws {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: destination), accessMode: .create)
        } catch {
            throw RunnerError("cannot write \(destination): \(error)")
        }
        for file in files {
            let permissions = UInt16(file.mode & 0o7777)
            if let target = file.symlinkTarget {
                let link = Data(target.utf8)
                try add(file, to: archive) {
                    try archive.addEntry(
                        with: file.name, type: .symlink, uncompressedSize: Int64(link.count),
                        modificationDate: entryDate, permissions: permissions, provider: { _, _ in link }
                    )
                }
                continue
            }
            // Opened by path, so a symlink (without `enable-symlinks`) contributes its target's content.
            let descriptor = open(file.path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw RunnerError("cannot read \(file.path) for the artifact zip: \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else {
                throw RunnerError("cannot read \(file.path) for the artifact zip: \(String(cString: strerror(errno)))")
            }
            try add(file, to: archive) {
                try archive.addEntry(
                    with: file.name, type: .file, uncompressedSize: Int64(info.st_size), modificationDate: entryDate,
                    permissions: permissions, compressionMethod: .deflate,
                    provider: { _, size in try read(size, from: descriptor, path: file.path) }
                )
            }
        }
    }

    /// Runs one `addEntry`, naming the file in any error.
    private static func add(_ file: ArtifactFiles.File, to archive: Archive, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as RunnerError {
            throw error
        } catch {
            throw RunnerError("cannot add \(file.path) to the artifact zip: \(error)")
        }
    }

    /// The next `size` bytes of the file; a file that ends early changed while it was zipped.
    private static func read(_ size: Int, from descriptor: Int32, path: String) throws -> Data {
        var data = Data(count: size)
        var filled = 0
        while filled < size {
            let count = data.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress! + filled, size - filled) }
            if count < 0 {
                if errno == EINTR { continue }
                throw RunnerError("cannot read \(path) for the artifact zip: \(String(cString: strerror(errno)))")
            }
            if count == 0 { throw RunnerError("\(path) shrank while the artifact zip was written") }
            filled += count
        }
        return data
    }
}
