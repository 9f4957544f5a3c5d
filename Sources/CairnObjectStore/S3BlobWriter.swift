import AsyncHTTPClient
import CairnCore
import NIOCore
import _NIOFileSystem

/// Hashes a new blob and stores it at ``commit()``: a blob of at most the store's small-blob limit is held in
/// memory and inserted into its small-blob table; a larger one is staged in a local file and PUT with its length
/// known, skipped when the object store already has the content.
public final class S3BlobWriter: BlobWriter {
    let store: S3BlobStore
    private let checksum: ChecksumAlgorithm?
    private let expectedSize: Int64?
    /// The content while it may still be a small blob; nil once it outgrew the limit (or cannot be small).
    private var held: ByteBuffer?
    /// The staged file of a blob larger than the limit, once there is one.
    private var staged: (any BlobWriter)?
    private var summary: BlobSummary?

    init(store: S3BlobStore, checksum: ChecksumAlgorithm?, expectedSize: Int64?) throws {
        self.store = store
        self.checksum = checksum
        self.expectedSize = expectedSize
        if store.smallBlobs != nil, (expectedSize ?? 0) <= store.smallBlobLimit {
            held = ByteBufferAllocator().buffer(capacity: Int(expectedSize ?? 0))
        } else {
            staged = try store.staging.makeWriter(checksum: checksum, expectedSize: expectedSize)
        }
    }

    public var bytesWritten: Int64 {
        held.map { Int64($0.readableBytes) } ?? staged?.bytesWritten ?? 0
    }

    public func write(_ buffer: ByteBuffer) async throws {
        if held != nil {
            if Int64(held!.readableBytes + buffer.readableBytes) <= store.smallBlobLimit {
                held!.writeImmutableBuffer(buffer)
                return
            }
            // Larger than a small blob: what was held goes to a staged file, with the rest.
            let writer = try store.staging.makeWriter(checksum: checksum, expectedSize: expectedSize)
            try await writer.write(held!)
            held = nil
            staged = writer
        }
        try await staged!.write(buffer)
    }

    public func finish() async throws -> BlobSummary {
        if let summary { return summary }
        let summary: BlobSummary
        if let held {
            // At most the small-blob limit (64 KiB by default): hashed in place, less work than a thread hop.
            let bytes = Array(held.readableBytesView)
            let sha256 = MessageDigest.hash(.sha256, bytes)
            summary = BlobSummary(
                digest: BlobDigest(bytes: sha256), sha256: sha256, md5: MessageDigest.hash(.md5, bytes),
                size: Int64(bytes.count), checksum: checksum.map { ($0, $0.checksum(of: bytes)) })
        } else {
            summary = try await staged!.finish()
        }
        self.summary = summary
        return summary
    }

    @discardableResult
    public func commit() async throws -> BlobDigest {
        let summary = try await finish()
        if let held {
            try await store.storeSmall(held, digest: summary.digest)
            self.held = nil
            return summary.digest
        }
        let generation = store.cache?.generation
        let digest = try await staged!.commit()
        do {
            try await upload(digest, size: summary.size)
        } catch {
            try? await store.staging.remove(digest)
            throw error
        }
        // What was just written is likely to be read next (a restored build output): the staged file becomes the
        // cache's copy when the cache takes it.
        if let cache = store.cache, let generation,
            await cache.adopt(
                FilePath(store.staging.path(for: digest)), digest: digest, size: summary.size, since: generation)
        {
            return digest
        }
        try await store.staging.remove(digest)
        return digest
    }

    public func discard() async {
        held = nil
        await staged?.discard()
    }

    private func upload(_ digest: BlobDigest, size: Int64) async throws {
        if try await store.size(of: digest) != nil { return }
        let path = store.staging.path(for: digest)
        let response: HTTPClientResponse
        do {
            response = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                try await store.send(
                    .PUT, path: store.location.path(of: digest.hex),
                    headers: [("content-type", "application/octet-stream")],
                    body: .stream(handle.readChunks(chunkLength: .mebibytes(1)), length: .known(size)))
            }
        } catch let error as FileSystemError where error.code == .notFound {
            // Another upload of the same content stored it and moved or removed the shared staged file first.
            guard try await store.size(of: digest) != nil else { throw error }
            return
        }
        let text = try await S3BlobStore.text(response)
        guard (200..<300).contains(response.status.code) else {
            throw store.failure("storing blob \(digest)", response.status, text)
        }
        store.remember(digest)
    }
}
