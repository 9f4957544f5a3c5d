import NIOCore

/// Streams new content into a blob store while hashing it.
///
/// Use one writer from one task, sequentially: ``write(_:)``, then ``finish()``, then ``commit()``, or ``discard()``
/// at any point. A writer that is neither committed nor discarded leaves nothing behind once released.
public protocol BlobWriter: AnyObject {
    /// The number of bytes accepted so far.
    var bytesWritten: Int64 { get }
    /// Appends bytes to the blob.
    func write(_ buffer: ByteBuffer) async throws
    /// Ends the content and returns its digests; the blob is not stored yet.
    func finish() async throws -> BlobSummary
    /// Stores the blob (durably) and returns its digest; content already stored is kept once.
    @discardableResult
    func commit() async throws -> BlobDigest
    /// Drops what was written.
    func discard() async
}
