import NIOConcurrencyHelpers
import NIOCore

/// Small new blobs held in memory until their bytes are in the metadata database (see ``SmallBlobTable``).
///
/// A new blob of at most ``largestBlob`` bytes is not written to a file by the upload: its bytes are held here, and
/// the metadata transaction that first names the blob writes them to the `small_blobs` table, where they stay: the
/// one group-committed WAL fsync that makes the object durable makes its content durable too (instead of an fsync
/// of the blob file and one of its folder per upload). A flush (``SQLiteMetadataStore/flushBlobJournal()``, run every few
/// hundred milliseconds by the server and at shutdown) makes sure every held blob has its row, and only then lets
/// it go from here.
///
/// Until then a held blob is read from here: every read and existence check of ``FileBlobStore`` looks here first. Only
/// a server that runs the flush holds blobs; a store without a journal fsyncs each blob's file.
public final class BlobJournal: Sendable {
    /// A held blob and the order it was taken in (a flush releases exactly what it wrote).
    struct Entry: Sendable {
        let content: ByteBuffer
        let sequence: UInt64
    }

    private struct State {
        var entries: [BlobDigest: Entry] = [:]
        var bytes = 0
        var nextSequence: UInt64 = 0
    }

    /// Blobs larger than this are written and fsynced as their own file; smaller ones live in the database.
    public static let largestBlob = 64 * 1024

    private let state = NIOLockedValueBox(State())
    /// The most bytes held before uploads fall back to fsyncing their own files.
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = capacity
    }

    /// Whether a new blob of `size` bytes may be held.
    func accepts(size: Int) -> Bool {
        size <= Self.largestBlob && state.withLockedValue { $0.bytes + size <= capacity }
    }

    /// Holds a blob's bytes until a flush finds its row. Holding one that is already held does nothing.
    func hold(_ content: ByteBuffer, for digest: BlobDigest) {
        state.withLockedValue { state in
            guard state.entries[digest] == nil else { return }
            state.entries[digest] = Entry(content: content, sequence: state.nextSequence)
            state.nextSequence += 1
            state.bytes += content.readableBytes
        }
    }

    /// The bytes of a held blob, or nil.
    public func content(for digest: BlobDigest) -> ByteBuffer? {
        state.withLockedValue { $0.entries[digest]?.content }
    }

    /// How many blobs and bytes are held.
    public var held: (blobs: Int, bytes: Int) {
        state.withLockedValue { ($0.entries.count, $0.bytes) }
    }

    /// Everything held now, for a flush.
    func snapshot() -> [(digest: BlobDigest, entry: Entry)] {
        state.withLockedValue { state in state.entries.map { (digest: $0.key, entry: $0.value) } }
    }

    /// Drops blobs a flush found durable in the database; an entry taken again since the snapshot stays.
    func release(_ flushed: [(digest: BlobDigest, entry: Entry)]) {
        state.withLockedValue { state in
            for (digest, entry) in flushed where state.entries[digest]?.sequence == entry.sequence {
                state.bytes -= entry.content.readableBytes
                state.entries[digest] = nil
            }
        }
    }

    /// Drops a blob that retention removed.
    func forget(_ digest: BlobDigest) {
        state.withLockedValue { state in
            if let entry = state.entries.removeValue(forKey: digest) { state.bytes -= entry.content.readableBytes }
        }
    }
}
