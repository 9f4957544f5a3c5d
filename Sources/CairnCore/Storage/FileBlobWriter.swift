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
public final class FileBlobWriter: BlobWriter {
    /// The hashers, the file and two batch buffers. While one batch is written and hashed by two thread-pool jobs
    /// (which only read it, and otherwise touch disjoint fields), the writer fills the other; it starts a batch's
    /// jobs only after the previous batch's have finished, so the file and the hashers see batches in order and no
    /// field is written by one thread while another uses it. The file is closed (and a temp file that was never
    /// committed removed) when the last user lets go of the state, so a job still running can never write to a
    /// descriptor that was closed and reused.
    private final class State: @unchecked Sendable {
        let sha256 = MessageDigest(.sha256)
        let md5 = MessageDigest(.md5)
        let checksum: ChecksumAccumulator?
        /// The temp file, created by the first thread-pool job (creating a file can block: never on an event
        /// loop or in a task); -1 until then, and after it is closed.
        var descriptor: Int32 = -1
        let path: String
        /// Bytes written to the file so far (by the jobs).
        var size: Int64 = 0
        /// The batches, allocated once per upload (reused storage means no page faults per batch); the second only
        /// when a first batch is handed to the jobs, so a small upload holds one.
        var batches: [UnsafeMutableRawBufferPointer]

        /// - Parameter firstBatch: the first buffer's size: the whole body when it is known to be smaller than a
        ///   batch (a 1 MiB allocation per small upload would be an mmap and munmap each), else a batch.
        init(path: String, checksum: ChecksumAlgorithm?, firstBatch: Int) {
            self.path = path
            self.checksum = checksum.map(ChecksumAccumulator.init)
            self.batches = [.allocate(byteCount: firstBatch, alignment: 64)]
        }

        /// Grows a batch that was sized for a smaller body to a full batch, keeping its first `used` bytes. Only
        /// for the batch being filled, which no job reads.
        func growToFullBatch(_ batch: Int, used: Int) {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: FileBlobWriter.batchSize, alignment: 64)
            grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: batches[batch][..<used]))
            batches[batch].deallocate()
            batches[batch] = grown
        }

        deinit {
            if descriptor >= 0 {
                close(descriptor)
                unlink(path)
            }
            for batch in batches { batch.deallocate() }
        }

        func bytes(_ batch: Int, _ count: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: batches[batch][..<count])
        }

        func openIfNeeded() throws {
            guard descriptor < 0 else { return }
            descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw BlobStoreError.system("create", path: path, errno: errno) }
        }

        /// The write: one of the two halves of a batch, run in parallel with ``digest(_:_:)``. Copying into the
        /// page cache costs about as much as SHA-256 and MD5 together, so each thread gets one side.
        func write(_ batch: Int, _ count: Int) throws {
            try openIfNeeded()
            let bytes = self.bytes(batch, count)
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

        /// SHA-256, MD5 (for the ETag) and the declared checksum: the other half of a batch. It only reads what
        /// ``write(_:_:)`` reads, so the two run on two threads at once.
        func digest(_ batch: Int, _ count: Int) {
            let bytes = self.bytes(batch, count)
            sha256.update(bytes)
            md5.update(bytes)
            checksum?.update(bytes)
        }

        /// Finalizes the digests of everything hashed: what ``FileBlobWriter/finish()`` returns.
        func summary(size: Int64) -> BlobSummary {
            let sha256 = self.sha256.finalize()
            return BlobSummary(
                digest: BlobDigest(bytes: sha256), sha256: sha256, md5: md5.finalize(), size: size,
                checksum: checksum.map { ($0.algorithm, $0.finalize(sha256: sha256)) }
            )
        }

        /// Makes what was written so far durable (`fdatasync`), beside the batch jobs that keep writing.
        func dataSync() throws {
            if descriptor >= 0, fdatasync(descriptor) != 0 {
                throw BlobStoreError.system("fdatasync", path: path, errno: errno)
            }
        }

        /// Closes the file (in a thread-pool job, after every batch job has finished).
        func closeFile() {
            if descriptor >= 0 { close(descriptor) }
            descriptor = -1
        }
    }

    static let batchSize = 1 << 20
    /// A large upload syncs what it has written every this many bytes, in the background, so that its final fsync
    /// finds little left: starting writeback (``Writeback``) is not enough where the disk has its own write cache
    /// (a virtual disk's host), which only a sync empties — a final flush of everything took about a fifth of a
    /// 1 GiB PUT.
    static let syncInterval: Int64 = 64 << 20

    private let store: FileBlobStore
    private let state: State
    private var summary: BlobSummary?
    private var closed = false
    /// The batch being filled, and how many of its bytes are in use (only the writer touches these).
    private var current = 0
    private var batchCount = 0
    private var accepted: Int64 = 0
    /// The jobs of the batch handed over last, while they may still run.
    private var inFlight: Task<Void, any Error>?
    /// The background sync of a large upload's bytes (see ``syncInterval``), while it may still run, and how many
    /// bytes the file held when it started.
    private var syncing: Task<Void, any Error>?
    private var syncStartedAt: Int64 = 0
    /// A small blob's bytes, kept by ``finish()`` for the store's memory cache once ``commit()`` succeeds.
    private var smallContent: ByteBuffer?
    /// Whether ``finish()`` left the bytes for the store's journal instead of writing and fsyncing a file.
    private var journaled = false

    init(store: FileBlobStore, checksum: ChecksumAlgorithm?, expectedSize: Int64?) throws {
        self.store = store
        let path = "\(store.temporaryDirectory)/upload-\(SecureRandom.bytes(12).hexString)"
        let firstBatch = expectedSize.map { Int(max(1, min($0, Int64(Self.batchSize)))) } ?? Self.batchSize
        self.state = State(path: path, checksum: checksum, firstBatch: firstBatch)
    }

    deinit {
        guard !closed else { return }
        // Neither committed nor discarded: the temp file's name goes now (a job still writing to it writes to an
        // unnamed file); its descriptor is closed only after the batch job that may still use it.
        let state = self.state
        unlink(state.path)
        if inFlight != nil || syncing != nil {
            let (inFlight, syncing) = (self.inFlight, self.syncing)
            Task {
                _ = try? await inFlight?.value
                _ = try? await syncing?.value
                state.closeFile()
                unlink(state.path)  // in case that job created the file only after the unlink above
            }
        } else {
            state.closeFile()
        }
    }

    /// The number of bytes accepted so far.
    public var bytesWritten: Int64 { accepted }

    /// Appends bytes to the blob.
    public func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        while buffer.readableBytes > 0 {
            let take = min(buffer.readableBytes, Self.batchSize - batchCount)
            if batchCount + take > state.batches[current].count {
                state.growToFullBatch(current, used: batchCount)  // more than the expected size arrived
            }
            let target = state.batches[current]
            let offset = batchCount
            buffer.withUnsafeReadableBytes { bytes in
                UnsafeMutableRawBufferPointer(rebasing: target[offset...])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<take]))
            }
            buffer.moveReaderIndex(forwardBy: take)
            batchCount += take
            accepted += Int64(take)
            if batchCount == Self.batchSize { try await handOver() }
        }
    }

    /// Hands the filled batch to two thread-pool jobs (the write on one thread, the digests on another, since CPU,
    /// not the disk, bounds a single upload) and switches to the other batch, so that receiving the next bytes
    /// overlaps with writing and hashing these. Waits first for the previous batch's jobs.
    private func handOver() async throws {
        try await inFlight?.value
        inFlight = nil
        let state = self.state
        let pool = store.threadPool
        // Every batch job has finished: the file holds `state.size` bytes. One sync at a time; waiting for the last
        // one holds a fast sender to the disk's pace.
        if state.size - syncStartedAt >= Self.syncInterval {
            try await syncing?.value
            syncStartedAt = state.size
            syncing = Task { try await pool.runIfActive { try state.dataSync() } }
        }
        // The second buffer is added before any job can read the array: it never changes while one runs.
        if state.batches.count == 1 {
            state.batches.append(.allocate(byteCount: Self.batchSize, alignment: 64))
        }
        let (batch, count) = (current, batchCount)
        inFlight = Task {
            async let written: Void = pool.runIfActive { try state.write(batch, count) }
            async let digested: Void = pool.runIfActive { state.digest(batch, count) }
            _ = try await (written, digested)
        }
        current ^= 1
        batchCount = 0
    }

    /// Writes out what is buffered, fsyncs the file and returns its digests. The blob is not visible yet.
    @discardableResult
    public func finish() async throws -> BlobSummary {
        if let summary { return summary }
        // A body that fits one batch (most uploads of small files) is written, hashed and fsynced in one job.
        let whole = accepted == Int64(batchCount)
        if !whole {
            if batchCount > 0 { try await handOver() }
            try await inFlight?.value
            inFlight = nil
            try await syncing?.value
            syncing = nil
        }
        let state = self.state
        let (batch, count) = (current, batchCount)
        if whole, let journal = store.journal, journal.accepts(size: count) {
            // Durable once the metadata that names it commits (see BlobJournal): no file, no fsync here. At most
            // 64 KiB, hashed in place: less work than handing it to a thread.
            state.digest(batch, count)
            let summary = state.summary(size: Int64(count))
            smallContent = ByteBuffer(bytes: state.bytes(batch, count))
            journaled = true
            batchCount = 0
            self.summary = summary
            return summary
        }
        let summary = try await store.threadPool.runIfActive { () throws -> BlobSummary in
            if whole {
                try state.write(batch, count)
                state.digest(batch, count)
            }
            if fsync(state.descriptor) != 0 { throw BlobStoreError.system("fsync", path: state.path, errno: errno) }
            return state.summary(size: state.size)
        }
        if whole, let cache = store.memoryCache, count <= cache.largestEntry {
            smallContent = ByteBuffer(bytes: state.bytes(batch, count))
        }
        batchCount = 0
        self.summary = summary
        return summary
    }

    /// Moves the finished file to its content address; when that blob already exists the copy is dropped.
    ///
    /// After this returns the blob is durable (the file and its directory are fsynced), or, for a small blob when
    /// the store has a journal, held there until the metadata transaction that names it commits it.
    @discardableResult
    public func commit() async throws -> BlobDigest {
        let summary = try await finish()
        if journaled, let smallContent, let journal = store.journal {
            closed = true
            journal.hold(smallContent, for: summary.digest)
            store.memoryCache?.insert(smallContent, for: summary.digest)
            return summary.digest
        }
        let state = self.state
        let destination = store.path(for: summary.digest)
        closed = true
        try await store.threadPool.runIfActive {
            state.closeFile()
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
        // What was just written is the likeliest to be read next (a cache entry, a restored file).
        if let smallContent, let cache = store.memoryCache { cache.insert(smallContent, for: summary.digest) }
        return summary.digest
    }

    /// Throws the temp file away.
    public func discard() async {
        guard !closed else { return }
        closed = true
        _ = try? await inFlight?.value
        inFlight = nil
        _ = try? await syncing?.value
        syncing = nil
        let state = self.state
        try? await store.threadPool.runIfActive {
            state.closeFile()
            unlink(state.path)
        }
    }

    /// Creates a folder and its missing parents, fsyncing each parent that gained an entry unless the caller
    /// syncs the whole file system afterwards (`sync: false`).
    static func makeDirectories(_ path: String, sync: Bool = true) throws {
        if access(path, F_OK) == 0 { return }
        let parent = String(path[..<path.lastIndex(of: "/")!])
        try makeDirectories(parent, sync: sync)
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw BlobStoreError.system("create directory", path: path, errno: errno)
        }
        if sync { try syncDirectory(parent) }
    }

    static func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw BlobStoreError.system("open directory", path: path, errno: errno) }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw BlobStoreError.system("fsync directory", path: path, errno: errno) }
    }
}
