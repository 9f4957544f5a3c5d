import NIOCore

/// Small blobs kept as rows of a database that every node shares (PostgreSQL's `small_blobs`), beside an object
/// store that keeps the larger ones.
///
/// A row is written once and never changes: content is named by its digest, so a second insert of the same digest
/// keeps the first row. An insert returns once the row is committed (durable), so metadata written afterwards may
/// name the blob. Every lookup takes many digests and costs one query, whatever their number.
public protocol SmallBlobDatabase: Sendable {
    /// Stores a blob's bytes unless a row already holds them; returns once the row is durable.
    func insert(_ content: ByteBuffer, for digest: BlobDigest) async throws
    /// The sizes of those of `digests` that have a row.
    func sizes(_ digests: [BlobDigest]) async throws -> [BlobDigest: Int64]
    /// The bytes of those of `digests` that have a row.
    func contents(_ digests: [BlobDigest]) async throws -> [BlobDigest: ByteBuffer]
    /// Deletes a blob's row; returns whether there was one.
    @discardableResult
    func remove(_ digest: BlobDigest) async throws -> Bool
}
