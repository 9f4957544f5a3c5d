import Foundation
import NIOCore

/// Immutable content named by its SHA-256: what the server, the cache protocols and the runner's local store need
/// of a blob store.
///
/// ``FileBlobStore`` is the embedded implementation (files under the data directory, small blobs in the metadata
/// database). Content is stored once whoever sends it; a blob is written completely and durably before
/// ``BlobWriter/commit()`` returns, so metadata written after that may name it.
public protocol BlobStore: Sendable {
    /// Whether the blob is stored (or held in memory awaiting its durable write).
    func contains(_ digest: BlobDigest) -> Bool
    /// The blob's bytes when memory has them; never blocks (the server's fast read path calls it on an event loop).
    func inMemory(_ digest: BlobDigest) -> ByteBuffer?
    /// The sizes of many blobs, nil where a blob is not stored.
    func storedSizes(_ digests: [BlobDigest]) async throws -> [Int64?]
    /// The sizes of many blobs that can be read now, nil where a blob cannot.
    func readableSizes(_ digests: [BlobDigest]) async throws -> [Int64?]
    /// A writer for new content, hashed as it streams in; `checksum` adds an S3 checksum to its summary.
    func makeWriter(checksum: ChecksumAlgorithm?, expectedSize: Int64?) throws -> any BlobWriter
    /// Removes what uploads that never finished left behind (at start-up); returns how many it removed.
    func removeTemporaryFiles() throws -> Int
    /// Removes, while the server runs, what uploads left behind that were last written before `cutoff` (none in
    /// flight is that old); returns how many it removed, or would remove when `dryRun` is set.
    func removeTemporaryFiles(before cutoff: Date, dryRun: Bool) throws -> Int
    /// Streams `range` of a blob in chunks of at most `chunkSize` bytes, in order.
    func readChunks(
        of digest: BlobDigest, range: Range<Int64>, chunkSize: Int, _ body: (ByteBuffer) async throws -> Void
    ) async throws
    /// `range` of a blob, in one buffer (for small reads).
    func read(_ digest: BlobDigest, range: Range<Int64>) async throws -> ByteBuffer
    /// `range` of a blob, in one buffer, completed on `eventLoop` (the server's fast read path).
    func read(_ digest: BlobDigest, range: Range<Int64>, on eventLoop: any EventLoop) -> EventLoopFuture<ByteBuffer>
    /// Several small blobs in one buffer, each preceded by the bytes `header` gives for it.
    func read(
        _ segments: [BlobSegment], header: @escaping @Sendable (BlobSegment) -> [UInt8]
    ) async throws -> ByteBuffer
    /// The blob's file, open for reading, when it has one that can be sent as it is (`sendfile`); nil when the
    /// blob is in memory, in a database, or missing.
    func openFile(_ digest: BlobDigest) async throws -> OpenBlobFile?
    /// Removes a blob; removing a missing blob is not an error. Only retention calls this, after the metadata that
    /// named the blob is gone.
    func remove(_ digest: BlobDigest) async throws
}

extension BlobStore {
    /// A writer for new content with no extra checksum and no size announced.
    public func makeWriter() throws -> any BlobWriter {
        try makeWriter(checksum: nil, expectedSize: nil)
    }

    /// A writer for new content whose summary includes `checksum`.
    public func makeWriter(checksum: ChecksumAlgorithm?) throws -> any BlobWriter {
        try makeWriter(checksum: checksum, expectedSize: nil)
    }

    /// A writer for content of about `expectedSize` bytes (nil: unknown), so it can size its buffers.
    public func makeWriter(expectedSize: Int64?) throws -> any BlobWriter {
        try makeWriter(checksum: nil, expectedSize: expectedSize)
    }

    /// Streams `range` of a blob in chunks of 256 KiB.
    public func readChunks(
        of digest: BlobDigest, range: Range<Int64>, _ body: (ByteBuffer) async throws -> Void
    ) async throws {
        try await readChunks(of: digest, range: range, chunkSize: 256 * 1024, body)
    }
}
