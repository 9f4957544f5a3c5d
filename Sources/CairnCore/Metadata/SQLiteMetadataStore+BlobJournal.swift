import Foundation
import GRDB
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

extension SQLiteMetadataStore {
    /// Lets go of the small blobs the journal holds in memory once each has its row in `small_blobs` (see
    /// ``SmallBlobTable``); afterwards they are read from there, or from the memory cache. Returns how many were let
    /// go. The server calls this every few hundred milliseconds and at shutdown.
    ///
    /// A blob's row is normally written by the transaction of the metadata that names it. A blob held but never
    /// named (its upload's metadata write failed, or has not committed yet) gets its row here, and a `blobs` row so
    /// that retention sweeps it once the grace period has passed and nothing names it.
    @discardableResult
    public func flushBlobJournal() async throws -> Int {
        guard let journal = blobs.journal else { return 0 }
        let entries = journal.snapshot()
        guard !entries.isEmpty else { return 0 }
        let now = Date().timeIntervalSince1970
        try await pool.write { db in
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO small_blobs (digest, content) VALUES (?, ?)")
            let register = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO blobs (digest, size, created_at) VALUES (?, ?, ?)")
            for (digest, entry) in entries where try !SmallBlobTable.contains(digest, db: db) {
                try insert.execute(arguments: [digest.hex, Data(entry.content.readableBytesView)])
                try register.execute(arguments: [digest.hex, entry.content.readableBytes, now])
            }
        }
        // Every entry has a committed row now: a read that no longer finds one held finds it there.
        journal.release(entries)
        return entries.count
    }

    /// The digests in `small_blobs` (for tests and diagnostics).
    func smallBlobDigests() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT digest FROM small_blobs ORDER BY digest") }
    }

    /// After an upgrade from a version that wrote small blobs to files after their rows: a row left by a crash
    /// may have a torn file beside it (the file was written without fsync). The row is the blob now; the file goes,
    /// so that no read finds it first.
    func removeFilesOfSmallBlobs() throws {
        let digests = try smallBlobDigests().compactMap(BlobDigest.init(hex:))
        for digest in digests {
            let path = blobs.path(for: digest)
            if unlink(path) != 0 && errno != ENOENT {
                throw BlobStoreError.system("remove", path: path, errno: errno)
            }
        }
    }
}
