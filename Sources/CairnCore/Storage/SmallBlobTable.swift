import Foundation
import GRDB
import NIOConcurrencyHelpers
import NIOCore

/// Where a server keeps blobs of at most ``BlobJournal/largestBlob`` bytes: the `small_blobs` table of the metadata
/// database, not files.
///
/// A small blob's bytes are written in the same transaction as the metadata that first names it, so the one
/// group-committed WAL fsync that makes an object durable makes its content durable too. Creating a file and, often,
/// its fan-out folder for every small blob cost more CPU than the rest of a small upload: on ext4 most of it is the
/// kernel allocating inodes. A blob may have a file as well as a row (it was uploaded as a file while the journal
/// was full); both hold the same bytes, and retention removes both.
///
/// ``BlobStore`` reads look in memory first, then for a file and here (a batch read of small blobs here first). The
/// table is only searched once a metadata store has attached its database (``attach(_:)``): a blob store on its own
/// has no small blobs.
public final class SmallBlobTable: Sendable {
    private let database = NIOLockedValueBox<DatabasePool?>(nil)

    init() {}

    /// Lets reads find the blobs of `pool`'s `small_blobs` table.
    func attach(_ pool: DatabasePool) {
        database.withLockedValue { $0 = pool }
    }

    private var pool: DatabasePool? { database.withLockedValue { $0 } }

    /// The bytes of those of `digests` the table holds.
    func contents(_ digests: some Collection<BlobDigest> & Sendable) async throws -> [BlobDigest: ByteBuffer] {
        guard !digests.isEmpty, let pool else { return [:] }
        return try await pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT content FROM small_blobs WHERE digest = ?")
            var found: [BlobDigest: ByteBuffer] = [:]
            for digest in digests {
                if let content = try Data.fetchOne(statement, arguments: [digest.hex]) {
                    found[digest] = ByteBuffer(bytes: content)
                }
            }
            return found
        }
    }

    /// The bytes of one blob, or nil when the table does not hold it.
    func content(_ digest: BlobDigest) async throws -> ByteBuffer? {
        try await contents(CollectionOfOne(digest))[digest]
    }

    /// The sizes of those of `digests` the table holds.
    func sizes(_ digests: [BlobDigest]) async throws -> [BlobDigest: Int64] {
        guard !digests.isEmpty, let pool else { return [:] }
        return try await pool.read { db in
            // `length` of a BLOB reads its size from the record header, not its bytes.
            let statement = try db.cachedStatement(sql: "SELECT length(content) FROM small_blobs WHERE digest = ?")
            var found: [BlobDigest: Int64] = [:]
            for digest in digests {
                if let size = try Int64.fetchOne(statement, arguments: [digest.hex]) { found[digest] = size }
            }
            return found
        }
    }

    /// Inside a transaction of the metadata database: whether the table holds the blob.
    static func contains(_ digest: BlobDigest, db: Database) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM small_blobs WHERE digest = ?)"),
            arguments: [digest.hex]) ?? false
    }
}
