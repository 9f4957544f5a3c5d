import CairnCore
import Foundation
import NIOCore
import Synchronization
import _NIOFileSystem

/// A node's disk cache of whole blobs it read from, or wrote to, the object store: bounded by bytes, least recently
/// used evicted first, never a source of truth.
///
/// Nothing here answers whether a blob is stored (``S3BlobStore/storedSizes(_:)`` asks the object store), so a
/// cached copy can never make metadata name a blob the store lost. A cached file is used only when its size is the
/// one recorded when it was cached; a missing or different file is dropped and the read goes to the object store.
/// Files appear in the directory only once complete (written under a hidden name, then renamed).
///
/// The cache starts empty: opening it deletes what an earlier run left, since a file written just before a crash
/// may not have reached the disk whole, and only a full read could tell.
///
/// Each node's cache is its own. ``S3BlobStore/remove(_:)`` drops the blob here, so on the node that runs
/// retention the cache never outlives the blob; another node may still hold a copy of a blob retention removed,
/// which is harmless: nothing names that blob any more, so nothing asks for it, and a new upload of the same content
/// stores it in the object store again.
public final class BlobDiskCache: Sendable {
    /// The folder of the cached files (one per blob, named by its digest).
    public let directory: String
    /// The most bytes the cached files may take together.
    public let capacity: Int64
    /// Larger blobs are not cached: one would push out many smaller, hotter ones.
    public let largestBlob: Int64

    struct State {
        var entries = RecencyList()
        /// Counts removals: a copy that began before one is not kept, since it may be of the blob that was removed.
        var generation: UInt64 = 0
    }

    let state = Mutex(State())

    /// Opens the cache in `directory` (created when missing), deleting what it held before.
    ///
    /// - Parameter largestBlob: the largest blob kept; by default an eighth of `capacity`.
    public init(directory: String, capacity: Int64, largestBlob: Int64? = nil) throws {
        self.directory = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.capacity = capacity
        self.largestBlob = min(largestBlob ?? capacity / 8, capacity)
        let manager = FileManager.default
        if manager.fileExists(atPath: self.directory) { try manager.removeItem(atPath: self.directory) }
        try manager.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    /// How many blobs and bytes the cache holds.
    public var usage: (blobs: Int, bytes: Int64) {
        state.withLock { ($0.entries.count, $0.entries.bytes) }
    }

    /// Whether the cache holds the blob (without counting it as used).
    public func holds(_ digest: BlobDigest) -> Bool {
        state.withLock { $0.entries.size(of: digest) != nil }
    }

    func path(of digest: BlobDigest) -> FilePath {
        FilePath("\(directory)/\(digest.hex)")
    }

    /// What a copy into the cache takes at its start and hands to ``keep(_:size:since:)``.
    var generation: UInt64 { state.withLock { $0.generation } }

    /// Whether a blob of `size` bytes is worth caching.
    func accepts(size: Int64) -> Bool {
        size > 0 && size <= largestBlob
    }

    // MARK: Reads

    /// Streams `range` of a cached blob in chunks of at most `chunkSize` bytes; false (having sent nothing) when
    /// the cache has no usable copy.
    func readChunks(
        of digest: BlobDigest, range: Range<Int64>, chunkSize: Int, _ body: (ByteBuffer) async throws -> Void
    ) async throws -> Bool {
        guard let handle = await open(digest, covering: range) else { return false }
        do {
            for try await chunk in handle.readChunks(in: range, chunkLength: .bytes(Int64(chunkSize))) {
                try await body(chunk)
            }
        } catch {
            try? await handle.close()
            throw error
        }
        try? await handle.close()
        return true
    }

    /// `range` of a cached blob in one buffer; nil when the cache has no usable copy.
    func read(_ digest: BlobDigest, range: Range<Int64>) async throws -> ByteBuffer? {
        var whole = ByteBufferAllocator().buffer(capacity: Int(range.count))
        let found = try await readChunks(of: digest, range: range, chunkSize: 1 << 20) { chunk in
            var chunk = chunk
            whole.writeBuffer(&chunk)
        }
        return found ? whole : nil
    }

    /// The cached file, open for the server to send as it is; nil when the cache has no usable copy.
    func openFile(_ digest: BlobDigest) async -> OpenBlobFile? {
        guard let handle = await open(digest, covering: nil) else { return nil }
        guard let size = state.withLock({ $0.entries.size(of: digest) }),
            let descriptor = try? handle.detachUnsafeFileDescriptor()
        else {
            try? await handle.close()
            return nil
        }
        return OpenBlobFile(
            handle: NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor.rawValue), size: size)
    }

    /// Opens a cached blob's file after checking that it is the size recorded (and holds `range`); drops the entry
    /// when the file is missing or differs.
    private func open(_ digest: BlobDigest, covering range: Range<Int64>?) async -> ReadFileHandle? {
        guard let size = state.withLock({ $0.entries.touch(digest) }) else { return nil }
        if let range, range.upperBound > size { return nil }
        let handle: ReadFileHandle
        do {
            handle = try await FileSystem.shared.openFile(forReadingAt: path(of: digest), options: OpenOptions.Read())
        } catch {
            await drop(digest)
            return nil
        }
        guard let info = try? await handle.info(), info.size == size else {
            try? await handle.close()
            await drop(digest)
            return nil
        }
        return handle
    }

    // MARK: Writes

    /// Moves a complete file of a blob (an upload's staged copy) into the cache; false when the cache does not take
    /// it, and the file is then left where it is.
    ///
    /// - Parameter generation: ``generation`` when the blob was stored or found in the object store.
    func adopt(_ file: FilePath, digest: BlobDigest, size: Int64, since generation: UInt64) async -> Bool {
        guard accepts(size: size), !holds(digest) else { return false }
        do {
            try await FileSystem.shared.moveItem(at: file, to: path(of: digest))
        } catch {
            return false  // a concurrent copy of the same blob is already there
        }
        await keep(digest, size: size, since: generation)
        return true
    }

    /// Starts a copy of a blob that is being read whole from the object store; nil when the cache does not take it.
    func beginCopy(of digest: BlobDigest, size: Int64) async -> BlobCacheCopy? {
        guard accepts(size: size), !holds(digest) else { return nil }
        let generation = self.generation
        // Written under a hidden name and renamed into place when complete (the file system's transactional
        // creation), so the directory never shows a partial file.
        guard
            let handle = try? await FileSystem.shared.openFile(
                forWritingAt: path(of: digest), options: .newFile(replaceExisting: true))
        else { return nil }
        return BlobCacheCopy(cache: self, handle: handle, digest: digest, size: size, generation: generation)
    }

    /// Lists a blob whose file is now in place, unless it was removed since `generation`, then evicts the least
    /// recently used blobs until the cache is within its capacity.
    func keep(_ digest: BlobDigest, size: Int64, since generation: UInt64) async {
        let (kept, evicted) = state.withLock { state -> (Bool, [BlobDigest]) in
            guard state.generation == generation else { return (false, []) }
            state.entries.insert(digest, size: size)
            var evicted: [BlobDigest] = []
            while state.entries.bytes > capacity, let oldest = state.entries.removeOldest() {
                evicted.append(oldest.digest)
            }
            return (true, evicted)
        }
        if !kept { await unlink(digest) }
        for digest in evicted { await unlink(digest) }
    }

    // MARK: Removal

    /// Drops a blob that is being removed from the object store, and any copy of it still being made.
    func remove(_ digest: BlobDigest) async {
        state.withLock { state in
            state.generation &+= 1
            state.entries.remove(digest)
        }
        await unlink(digest)
    }

    /// Drops an entry whose file is missing or damaged.
    private func drop(_ digest: BlobDigest) async {
        state.withLock { _ = $0.entries.remove(digest) }
        await unlink(digest)
    }

    /// Deletes a blob's file; an open file stays readable to whoever has it open.
    private func unlink(_ digest: BlobDigest) async {
        _ = try? await FileSystem.shared.removeItem(at: path(of: digest))
    }
}
