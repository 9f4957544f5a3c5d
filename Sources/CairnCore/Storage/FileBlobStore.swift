import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#endif

/// Immutable content named by its SHA-256, stored once in `blobs/sha256/ab/cd/<digest>` under a data directory, or,
/// for the small blobs a server receives, in the metadata database (see ``SmallBlobTable``).
///
/// New content streams into a temp file in `tmp/` while it is hashed (see ``FileBlobWriter``), is fsynced and renamed
/// into place, and the directory is fsynced. Nothing here looks at object keys: file names are digests only.
public struct FileBlobStore: BlobStore {
    /// The data directory's `blobs/sha256` folder.
    public let blobDirectory: String
    /// Where uploads in flight write; emptied at start-up.
    public let temporaryDirectory: String
    let threadPool: NIOThreadPool
    /// Small blobs kept in memory (written by ``FileBlobWriter``, read by the `read` methods); nil when disabled.
    public let memoryCache: BlobContentCache?
    /// Small new blobs held in memory until the metadata transaction that names them writes them to the database
    /// (see ``BlobJournal``); nil when every blob is fsynced as its own file.
    public let journal: BlobJournal?
    /// The small blobs that live in the metadata database, once a metadata store has attached it.
    public let smallBlobs = SmallBlobTable()

    /// Opens (and creates, when missing) the blob folders of a data directory.
    ///
    /// - Parameters:
    ///   - memoryCacheBytes: how many bytes of small blobs ``read(_:range:)`` keeps in memory (0: none).
    ///   - journalBytes: how many bytes of small new blobs may be held in memory (0: none, every blob is fsynced as
    ///     its own file). Only a store whose owner flushes (``SQLiteMetadataStore/flushBlobJournal()``) may hold any.
    public init(
        dataDirectory: String, threadPool: NIOThreadPool = .singleton, memoryCacheBytes: Int = 0, journalBytes: Int = 0
    ) throws {
        self.blobDirectory = dataDirectory + "/blobs/sha256"
        self.temporaryDirectory = dataDirectory + "/tmp"
        self.threadPool = threadPool
        self.memoryCache = memoryCacheBytes > 0 ? BlobContentCache(capacity: memoryCacheBytes) : nil
        self.journal = journalBytes > 0 ? BlobJournal(capacity: journalBytes) : nil
        for directory in [blobDirectory, temporaryDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
    }

    /// The path of a blob's file.
    public func path(for digest: BlobDigest) -> String {
        let hex = digest.hex
        return "\(blobDirectory)/\(hex.prefix(2))/\(hex.dropFirst(2).prefix(2))/\(hex)"
    }

    /// Whether the blob is held in memory by the journal or has a file. A small blob in the metadata database is
    /// not seen here: inside a metadata transaction, ``SQLiteMetadataStore`` also looks in its table.
    public func contains(_ digest: BlobDigest) -> Bool {
        journal?.content(for: digest) != nil || access(path(for: digest), F_OK) == 0
    }

    /// The bytes of a blob when memory has them: held by the journal (the only copy until its row commits), or
    /// cached.
    public func inMemory(_ digest: BlobDigest) -> ByteBuffer? {
        journal?.content(for: digest) ?? memoryCache?.value(for: digest)
    }

    /// The sizes of many blobs (nil where a blob is not stored), looked up on the blob thread pool: a cache
    /// request may name thousands of blobs, and a `stat` each is blocking work that stays off the event loops.
    public func storedSizes(_ digests: [BlobDigest]) async throws -> [Int64?] {
        try await sizes(digests) { journal?.content(for: $0) }
    }

    /// The sizes of blobs whose bytes `heldBytes` returns, and of the rest on disk or in the database.
    private func sizes(_ digests: [BlobDigest], heldBytes: (BlobDigest) -> ByteBuffer?) async throws -> [Int64?] {
        var sizes = digests.map { heldBytes($0).map { Int64($0.readableBytes) } }
        let unknown = sizes.indices.filter { sizes[$0] == nil }
        for (index, size) in zip(unknown, try await lookUpSizes(unknown.map { digests[$0] })) { sizes[index] = size }
        return sizes
    }

    /// The sizes of blobs with a row in the database or a file (nil where there is neither), looked up in
    /// thread-pool jobs: the table first, then files for those without a row.
    private func lookUpSizes(_ digests: [BlobDigest]) async throws -> [Int64?] {
        guard !digests.isEmpty else { return [] }
        // Thousands of lookups (a big build's entry) are split over a few jobs, which run on several cores.
        let chunk = max(1_000, (digests.count + 3) / 4)
        if digests.count > chunk {
            return try await withThrowingTaskGroup(of: (Int, [Int64?]).self) { group in
                for start in stride(from: 0, to: digests.count, by: chunk) {
                    let part = Array(digests[start..<min(start + chunk, digests.count)])
                    group.addTask { (start, try await lookUpSizes(part)) }
                }
                var sizes = [Int64?](repeating: nil, count: digests.count)
                for try await (start, part) in group { sizes.replaceSubrange(start..<start + part.count, with: part) }
                return sizes
            }
        }
        let directory = blobDirectory
        let table = smallBlobs
        return try await threadPool.runIfActive {
            // Relative to an open blobs/sha256 folder, each lookup walks three path components, not the whole path.
            let folder = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard folder >= 0 else { throw BlobStoreError.system("open", path: directory, errno: errno) }
            defer { close(folder) }
            // The table first: most blobs of a build's entry are small rows there, and a file that is not there
            // costs a failed path walk each.
            let inDatabase = try table.sizes(digests)
            var info = stat()
            return digests.map { inDatabase[$0] ?? Self.statBlob(folder, digest: $0, info: &info) }
        }
    }

    /// The sizes of blobs that can be read now (nil where one cannot): those held in memory need no lookup, since
    /// their bytes are at hand and content never changes; the rest are looked up on disk.
    public func readableSizes(_ digests: [BlobDigest]) async throws -> [Int64?] {
        try await sizes(digests, heldBytes: inMemory)
    }

    /// `fstatat` of `ab/cd/<digest>` under an open `blobs/sha256` folder: the file's size, or nil when absent.
    static func statBlob(_ folder: Int32, digest: BlobDigest, info: inout stat) -> Int64? {
        // "ab/cd/" + the 64 hex characters + NUL.
        let hex = Array(digest.hex.utf8)
        var path = [UInt8](repeating: 0, count: 71)
        path[0] = hex[0]
        path[1] = hex[1]
        path[2] = UInt8(ascii: "/")
        path[3] = hex[2]
        path[4] = hex[3]
        path[5] = UInt8(ascii: "/")
        for index in 0..<64 { path[6 + index] = hex[index] }
        let result = path.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { fstatat(folder, $0.baseAddress!, &info, 0) }
        }
        return result == 0 ? Int64(info.st_size) : nil
    }

    /// Starts a new blob; the caller writes it, then commits or discards it.
    ///
    /// - Parameters:
    ///   - checksum: an additional checksum to compute while the bytes stream.
    ///   - expectedSize: the body's declared length, when known: a small body then gets a buffer of its size. More
    ///     bytes than declared still work (the caller decides whether that is an error).
    public func makeWriter(checksum: ChecksumAlgorithm?, expectedSize: Int64?) throws -> any BlobWriter {
        try FileBlobWriter(store: self, checksum: checksum, expectedSize: expectedSize)
    }

    /// Removes every file left in `tmp/` by uploads that never finished (a crash, a kill).
    ///
    /// Only safe before the server accepts requests. Returns how many files were removed.
    @discardableResult
    public func removeTemporaryFiles() throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory)
        for name in names { unlink("\(temporaryDirectory)/\(name)") }
        return names.count
    }

    /// Removes the files in `tmp/` of uploads last written before `cutoff` (a crash's leftovers; an upload in
    /// flight writes its file as it goes); returns how many were removed, or would be when `dryRun` is set.
    public func removeTemporaryFiles(before cutoff: Date, dryRun: Bool) throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory)
        var removed = 0
        for name in names where name.hasPrefix("upload-") {
            let path = "\(temporaryDirectory)/\(name)"
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            if Double(info.st_mtim.tv_sec) < cutoff.timeIntervalSince1970 {
                if !dryRun { unlink(path) }
                removed += 1
            }
        }
        return removed
    }

    /// Calls `body` with consecutive chunks of a blob's bytes in `range` (offsets within the blob); a range past
    /// the end of the blob stops at the end (`0..<Int64.max` reads the whole blob).
    ///
    /// The next chunk is read while `body` sends the current one, and no further: a slow reader holds the server's
    /// memory to two chunks per download whatever the blob's size.
    public func readChunks(
        of digest: BlobDigest,
        range: Range<Int64>,
        chunkSize: Int,
        _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        guard !range.isEmpty else { return }
        func send(_ content: ByteBuffer) async throws {
            let end = min(range.upperBound, Int64(content.readableBytes))
            var offset = range.lowerBound
            while offset < end {
                let length = Int(min(end - offset, Int64(chunkSize)))
                try await body(content.getSlice(at: content.readerIndex + Int(offset), length: length)!)
                offset += Int64(length)
            }
        }
        if let held = journal?.content(for: digest) { return try await send(held) }
        let path = self.path(for: digest)
        let pool = threadPool
        let table = smallBlobs
        let descriptor: Int32
        switch try await pool.runIfActive({ try Self.locate(digest, path: path, table: table) }) {
        case .file(let opened): descriptor = opened
        case .row(let content): return try await send(content)
        }
        func read(_ chunk: Range<Int64>) -> (Task<ByteBuffer, any Error>, Range<Int64>) {
            (
                Task { try await pool.runIfActive { try Self.pread(descriptor, chunk, path: path, digest: digest) } },
                chunk
            )
        }
        var inFlight: (Task<ByteBuffer, any Error>, Range<Int64>)? = read(
            range.lowerBound..<min(range.upperBound, range.lowerBound + Int64(chunkSize)))
        do {
            while let (task, chunk) = inFlight {
                let buffer = try await task.value
                inFlight = nil
                // A short read is the end of the blob.
                let last = buffer.readableBytes < chunk.count || chunk.upperBound >= range.upperBound
                if !last {
                    inFlight = read(chunk.upperBound..<min(range.upperBound, chunk.upperBound + Int64(chunkSize)))
                }
                if buffer.readableBytes > 0 { try await body(buffer) }
            }
        } catch {
            // The descriptor is closed only once no read can still use it.
            if let (task, _) = inFlight { _ = try? await task.value }
            close(descriptor)
            throw error
        }
        close(descriptor)
    }

    /// Where a blob's bytes were found: its file, open for reading (the receiver closes it), or its row's bytes.
    enum Location: Sendable {
        case file(Int32)
        case row(ByteBuffer)
    }

    /// Opens a blob's file or, when it has none, fetches its row from `table`; a blob that has neither is
    /// ``BlobStoreError/Code/missingBlob``. Blocks: one thread-pool job does both.
    static func locate(_ digest: BlobDigest, path: String, table: SmallBlobTable) throws -> Location {
        if let descriptor = try openIfPresent(path) { return .file(descriptor) }
        guard let content = try table.content(digest) else { throw missing(digest, path: path) }
        return .row(content)
    }

    /// Opens a blob file for reading; a missing file is ``BlobStoreError/Code/missingBlob``.
    static func open(_ path: String, digest: BlobDigest) throws -> Int32 {
        guard let descriptor = try openIfPresent(path) else { throw missing(digest, path: path) }
        return descriptor
    }

    /// Opens a blob file for reading; nil when there is none (the blob may be a row of ``SmallBlobTable``).
    static func openIfPresent(_ path: String) throws -> Int32? {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw BlobStoreError.system("open", path: path, errno: errno)
        }
        return descriptor
    }

    /// A blob that has neither a file nor a row in the database.
    static func missing(_ digest: BlobDigest, path: String) -> BlobStoreError {
        BlobStoreError(code: .missingBlob, message: "blob \(digest) is missing from \(path)")
    }

    /// Reads `range` from an open blob file; the result is shorter only when the file ends first.
    static func pread(_ descriptor: Int32, _ range: Range<Int64>, path: String, digest: BlobDigest) throws -> ByteBuffer
    {
        var buffer = ByteBufferAllocator().buffer(capacity: range.count)
        try pread(descriptor, range, into: &buffer, path: path)
        return buffer
    }

    /// Appends `range` of an open blob file to `buffer`; fewer bytes only when the file ends first.
    static func pread(_ descriptor: Int32, _ range: Range<Int64>, into buffer: inout ByteBuffer, path: String) throws {
        var offset = range.lowerBound
        while offset < range.upperBound {
            let wanted = Int(min(range.upperBound - offset, 1 << 20))
            let count = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: wanted) { target -> Int in
                let wanted = min(target.count, Int(range.upperBound - offset))
                let read = Glibc.pread(descriptor, target.baseAddress, wanted, off_t(offset))
                if read < 0 { throw BlobStoreError.system("read", path: path, errno: errno) }
                return read
            }
            if count == 0 { break }
            offset += Int64(count)
        }
    }

    /// Reads a small range of a blob into one buffer with a single thread-pool job (open, pread, close): for
    /// small objects this is much cheaper than a streamed read. Callers keep `range` small (the server: 1 MiB).
    public func read(_ digest: BlobDigest, range: Range<Int64>) async throws -> ByteBuffer {
        if let held = inMemory(digest) { return try Self.slice(held, range, of: digest) }
        let (path, table, cache) = (path(for: digest), smallBlobs, memoryCache)
        return try await threadPool.runIfActive {
            try Self.read(digest, range: range, path: path, table: table, cache: cache)
        }
    }

    /// ``read(_:range:)`` for a caller on an event loop (the server's answer to a small GET there): the result
    /// arrives on `eventLoop`, with no task involved.
    public func read(
        _ digest: BlobDigest, range: Range<Int64>, on eventLoop: any EventLoop
    ) -> EventLoopFuture<ByteBuffer> {
        if let held = inMemory(digest) {
            return eventLoop.makeCompletedFuture { try Self.slice(held, range, of: digest) }
        }
        let (path, table, cache) = (path(for: digest), smallBlobs, memoryCache)
        return threadPool.runIfActive(eventLoop: eventLoop) {
            try Self.read(digest, range: range, path: path, table: table, cache: cache)
        }
    }

    /// The blocking part of ``read(_:range:)``: the blob's file or row, read and kept in `cache` when it is read
    /// whole.
    private static func read(
        _ digest: BlobDigest, range: Range<Int64>, path: String, table: SmallBlobTable, cache: BlobContentCache?
    ) throws -> ByteBuffer {
        switch try locate(digest, path: path, table: table) {
        case .file(let descriptor):
            defer { close(descriptor) }
            var info = stat()
            let whole = fstat(descriptor, &info) == 0 && range == 0..<Int64(info.st_size)
            let buffer = try pread(descriptor, range, path: path, digest: digest)
            guard buffer.readableBytes == range.count else { throw shortBlob(digest) }
            if whole, let cache { cache.insert(buffer, for: digest) }
            return buffer
        case .row(let content):
            cache?.insert(content, for: digest)
            return try slice(content, range, of: digest)
        }
    }

    /// `range` of a blob's whole bytes.
    private static func slice(_ content: ByteBuffer, _ range: Range<Int64>, of digest: BlobDigest) throws -> ByteBuffer
    {
        guard range.upperBound <= content.readableBytes else { throw shortBlob(digest) }
        return content.getSlice(at: content.readerIndex + Int(range.lowerBound), length: range.count)!
    }

    private static func shortBlob(_ digest: BlobDigest) -> BlobStoreError {
        BlobStoreError(code: .io, message: "blob \(digest) is shorter than its metadata says")
    }

    /// Reads several small blobs into one buffer with a single thread-pool job, each whole blob preceded by the
    /// bytes `header` returns for it: a batch download of thousands of small files costs one job per buffer, not
    /// one per file. Callers keep the total small (the cache API: 1 MiB); a blob whose file is missing or shorter
    /// than `segment.size` fails the whole read.
    public func read(
        _ segments: [BlobSegment], header: @escaping @Sendable (BlobSegment) -> [UInt8]
    ) async throws -> ByteBuffer {
        let paths = segments.map { path(for: $0.digest) }
        let table = smallBlobs
        let inMemoryNow = segments.map { inMemory($0.digest) }
        return try await threadPool.runIfActive {
            var held = inMemoryNow
            // Small blobs not in memory are looked for in the database first (one read finds them all); the rest,
            // and small ones uploaded as files, are read from their files.
            let small = segments.indices.filter { held[$0] == nil && segments[$0].size <= BlobJournal.largestBlob }
            if !small.isEmpty {
                let found = try table.contents(small.map { segments[$0].digest })
                for index in small { held[index] = found[segments[index].digest] }
            }
            var buffer = ByteBufferAllocator().buffer(
                capacity: segments.reduce(0) { $0 + Int($1.size) + 88 })
            for ((segment, path), inMemory) in zip(zip(segments, paths), held) {
                buffer.writeBytes(header(segment))
                if var cached = inMemory, cached.readableBytes == Int(segment.size) {
                    buffer.writeBuffer(&cached)
                    continue
                }
                let descriptor = try Self.open(path, digest: segment.digest)
                defer { close(descriptor) }
                let start = buffer.writerIndex
                try Self.pread(descriptor, 0..<segment.size, into: &buffer, path: path)
                guard buffer.writerIndex - start == Int(segment.size) else { throw Self.shortBlob(segment.digest) }
            }
            return buffer
        }
    }

    /// Removes a blob's file (retention only: metadata must no longer name it). A row in the database is the
    /// retention job's to delete, in its own transaction.
    public func remove(_ digest: BlobDigest) async throws {
        let path = self.path(for: digest)
        try await threadPool.runIfActive {
            if unlink(path) != 0 && errno != ENOENT {
                throw BlobStoreError.system("remove", path: path, errno: errno)
            }
        }
    }
}
