import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Streams new content into a temp file while hashing it; ``commit()`` makes it a blob.
///
/// Bytes are gathered into 1 MiB batches and each batch is hashed and written on the blob store's thread pool,
/// so neither hashing nor blocking file I/O runs on an event loop. Use one writer from one task, sequentially:
/// ``write(_:)``, then ``finish()``, then ``commit()``, or ``discard()`` at any point. A writer that is neither
/// committed nor discarded removes its temp file when it is released.
public final class BlobWriter {
    /// What ``finish()`` learned about the content.
    public struct Summary: Sendable {
        /// The SHA-256 that names the blob.
        public let digest: BlobDigest
        /// The raw SHA-256 bytes.
        public let sha256: [UInt8]
        /// The raw MD5 bytes (S3's ETag for a single-part object).
        public let md5: [UInt8]
        /// The number of bytes written.
        public let size: Int64
        /// The additional checksum, base64, when one was requested.
        public let checksum: (algorithm: ChecksumAlgorithm, value: String)?
    }

    /// The hashers, the file and the batch buffer. Each batch is handed to two thread-pool jobs that both only read
    /// the batch and otherwise touch disjoint fields; the writer fills the batch only while no job runs (it awaits
    /// both before refilling), so no field is ever written by one thread while another uses it.
    private final class State: @unchecked Sendable {
        let sha256 = MessageDigest(.sha256)
        let md5 = MessageDigest(.md5)
        let checksum: ChecksumAccumulator?
        /// The temp file, created by the first thread-pool job (creating a file can block: never on an event
        /// loop or in a task); -1 until then.
        var descriptor: Int32 = -1
        let path: String
        var size: Int64 = 0
        /// The batch being filled, allocated once per upload: reused storage means no page faults per batch.
        let batch = UnsafeMutableRawBufferPointer.allocate(byteCount: BlobWriter.batchSize, alignment: 64)
        /// Bytes of `batch` in use; only changed by the writer while no job is running.
        var batchCount = 0

        init(path: String, checksum: ChecksumAlgorithm?) {
            self.path = path
            self.checksum = checksum.map(ChecksumAccumulator.init)
        }

        deinit { batch.deallocate() }

        var filled: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: batch[..<batchCount]) }

        func openIfNeeded() throws {
            guard descriptor < 0 else { return }
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw BlobStoreError.system("create", path: path, errno: errno) }
        }

        /// SHA-256 and the write: one of the two halves of a batch, run in parallel with ``digestRest()``.
        func hashAndWrite() throws {
            try openIfNeeded()
            let bytes = filled
            sha256.update(bytes)
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw BlobStoreError.system("write", path: path, errno: errno)
                }
                offset += written
            }
            Writeback.start(descriptor: descriptor, offset: size, length: Int64(bytes.count))
            size += Int64(bytes.count)
        }

        /// MD5 (for the ETag) and the declared checksum: the other half of a batch. It only reads what
        /// ``hashAndWrite()`` reads, so the two run on two threads at once.
        func digestRest() {
            md5.update(filled)
            checksum?.update(filled)
        }
    }

    static let batchSize = 1 << 20

    private let store: BlobStore
    private let state: State
    private var summary: Summary?
    private var closed = false

    init(store: BlobStore, checksum: ChecksumAlgorithm?) throws {
        self.store = store
        let path = "\(store.temporaryDirectory)/upload-\(SecureRandom.bytes(12).hexString)"
        self.state = State(path: path, checksum: checksum)
    }

    deinit {
        if !closed {
            if state.descriptor >= 0 { close(state.descriptor) }
            unlink(state.path)
        }
    }

    /// The number of bytes accepted so far.
    public var bytesWritten: Int64 { state.size + Int64(state.batchCount) }

    /// Appends bytes to the blob.
    public func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        while buffer.readableBytes > 0 {
            let take = min(buffer.readableBytes, Self.batchSize - state.batchCount)
            buffer.withUnsafeReadableBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: state.batch[state.batchCount...])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<take]))
            }
            buffer.moveReaderIndex(forwardBy: take)
            state.batchCount += take
            if state.batchCount == Self.batchSize { try await flush() }
        }
    }

    /// Hashes and writes one batch: SHA-256 plus the write on one thread, MD5 plus the checksum on another, since
    /// hashing, not the disk, bounds a single upload's throughput.
    private func flush() async throws {
        let state = self.state
        let pool = store.threadPool
        async let written: Void = pool.runIfActive { try state.hashAndWrite() }
        async let digested: Void = pool.runIfActive { state.digestRest() }
        _ = try await (written, digested)
        state.batchCount = 0
    }

    /// Writes out what is buffered, fsyncs the file and returns its digests. The blob is not visible yet.
    @discardableResult
    public func finish() async throws -> Summary {
        if let summary { return summary }
        // A body that fits one batch (most uploads of small files) is written, hashed and fsynced in one job.
        let whole = state.size == 0
        if state.batchCount > 0 && !whole { try await flush() }
        let state = self.state
        let summary = try await store.threadPool.runIfActive { () throws -> Summary in
            if whole {
                try state.hashAndWrite()
                state.digestRest()
                state.batchCount = 0
            }
            if fsync(state.descriptor) != 0 { throw BlobStoreError.system("fsync", path: state.path, errno: errno) }
            let sha256 = state.sha256.finalize()
            let checksum = state.checksum.map { ($0.algorithm, $0.finalize(sha256: sha256)) }
            return Summary(
                digest: BlobDigest(bytes: sha256), sha256: sha256, md5: state.md5.finalize(), size: state.size,
                checksum: checksum
            )
        }
        self.summary = summary
        return summary
    }

    /// Moves the finished file to its content address; when that blob already exists the copy is dropped.
    ///
    /// After this returns the blob is durable: the file and its directory are fsynced.
    @discardableResult
    public func commit() async throws -> BlobDigest {
        let summary = try await finish()
        let state = self.state
        let destination = store.path(for: summary.digest)
        closed = true
        try await store.threadPool.runIfActive {
            close(state.descriptor)
            defer { unlink(state.path) }
            if access(destination, F_OK) == 0 { return }
            let directory = String(destination[..<destination.lastIndex(of: "/")!])
            try Self.makeDirectories(directory)
            // link() refuses an existing name: a concurrent upload of the same content simply wins.
            if link(state.path, destination) != 0 && errno != EEXIST {
                throw BlobStoreError.system("store blob", path: destination, errno: errno)
            }
            try Self.syncDirectory(directory)
        }
        return summary.digest
    }

    /// Throws the temp file away.
    public func discard() async {
        guard !closed else { return }
        closed = true
        let state = self.state
        try? await store.threadPool.runIfActive {
            if state.descriptor >= 0 { close(state.descriptor) }
            unlink(state.path)
        }
    }

    private static func makeDirectories(_ path: String) throws {
        if access(path, F_OK) == 0 { return }
        let parent = String(path[..<path.lastIndex(of: "/")!])
        try makeDirectories(parent)
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw BlobStoreError.system("create directory", path: path, errno: errno)
        }
        try syncDirectory(parent)
    }

    private static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BlobStoreError.system("open directory", path: path, errno: errno) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw BlobStoreError.system("fsync directory", path: path, errno: errno) }
    }
}
