import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

extension BlobStore {
    /// Writes journaled blobs as ordinary files and syncs the file system once: afterwards they are as durable as
    /// any blob, and the journal may let them go.
    ///
    /// - Parameter replacing: whether an existing file is replaced (recovery after a crash, when a file written
    ///   without fsync may be torn) or kept (a flush: a file already there was made durable by its own upload).
    func writeJournaled(_ blobs: [(digest: BlobDigest, content: ByteBuffer)], replacing: Bool) async throws {
        guard !blobs.isEmpty else { return }
        let paths = blobs.map { path(for: $0.digest) }
        let temporaryDirectory = self.temporaryDirectory
        try await Self.flushThread.runIfActive {
            try Self.writeJournaledNow(
                blobs, paths: paths, replacing: replacing, temporaryDirectory: temporaryDirectory)
        }
    }

    /// The one thread journal flushes run on, at a lower CPU priority than the threads that answer requests: a
    /// flush is background work (creating thousands of small files can take seconds of kernel time), and a busy
    /// server should answer its clients first. The journal's byte bound keeps a starved flush from holding much.
    static let flushThread: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        // On Linux the nice value is per thread, and `who` 0 names the calling one.
        pool.submit { _ in _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10) }
        return pool
    }()

    /// ``writeJournaled(_:replacing:)`` on the calling thread (recovery, before the server starts).
    static func writeJournaledNow(
        _ blobs: [(digest: BlobDigest, content: ByteBuffer)], paths: [String], replacing: Bool,
        temporaryDirectory: String
    ) throws {
        for ((_, content), destination) in zip(blobs, paths) {
            if !replacing && access(destination, F_OK) == 0 { continue }
            try writeFile(content, to: destination, temporaryDirectory: temporaryDirectory)
        }
        try FileSystemSync.sync(path: temporaryDirectory)
    }

    /// Writes `content` to a temp file and renames it to `destination`, with no fsync (the caller syncs).
    private static func writeFile(_ content: ByteBuffer, to destination: String, temporaryDirectory: String) throws {
        let temporary = "\(temporaryDirectory)/journal-\(SecureRandom.bytes(12).hexString)"
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BlobStoreError.system("create", path: temporary, errno: errno) }
        defer { close(descriptor) }
        var failure: BlobStoreError?
        content.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = BlobStoreError.system("write", path: temporary, errno: errno)
                    return
                }
                offset += written
            }
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        try BlobWriter.makeDirectories(String(destination[..<destination.lastIndex(of: "/")!]), sync: false)
        if rename(temporary, destination) != 0 {
            let error = BlobStoreError.system("store blob", path: destination, errno: errno)
            unlink(temporary)
            throw error
        }
    }
}

/// `syncfs(2)`: one call that makes everything written to a file system durable, instead of an fsync per file.
enum FileSystemSync {
    private typealias SyncFS = @convention(c) (Int32) -> Int32

    /// Not exported by the Glibc module; looked up once. Nil where it does not exist (then `sync()` is used).
    private static let syncfs: SyncFS? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") else { return nil }
        return unsafeBitCast(symbol, to: SyncFS.self)
    }()

    /// Syncs the file system that holds `path`.
    static func sync(path: String) throws {
        guard let syncfs else {
            Glibc.sync()
            return
        }
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BlobStoreError.system("open", path: path, errno: errno) }
        defer { close(descriptor) }
        if syncfs(descriptor) != 0 { throw BlobStoreError.system("sync file system", path: path, errno: errno) }
    }
}
