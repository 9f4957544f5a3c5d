import Foundation
import GRDB
import NIOCore

extension MetadataStore {
    /// Writes the blobs the journal holds as files, syncs the file system, then lets them go from memory and from
    /// `blob_journal`. Returns how many were written. The server calls this every few hundred milliseconds and
    /// at shutdown.
    @discardableResult
    public func flushBlobJournal() async throws -> Int {
        guard let journal = blobs.journal else { return 0 }
        let entries = journal.snapshot()
        guard !entries.isEmpty else { return 0 }
        // A blob held but never recorded (its upload's metadata write failed) gets its row now: a file the flush
        // writes is torn if the power fails before the sync, and only a row lets recovery repair it. Without one, a
        // later upload of the same bytes would find the torn file at the content address and keep it.
        try await pool.write { db in
            let recorded = Set(try String.fetchAll(db, sql: "SELECT digest FROM blob_journal"))
            let insert = try db.cachedStatement(sql: "INSERT INTO blob_journal (digest, content) VALUES (?, ?)")
            for (digest, entry) in entries where !recorded.contains(digest.hex) {
                try insert.execute(arguments: [digest.hex, Data(entry.content.readableBytesView)])
            }
        }
        try await blobs.writeJournaled(entries.map { ($0.digest, $0.entry.content) }, replacing: false)
        // Released before the rows go: a transaction that still finds a blob held (and writes its row) commits
        // before the delete below, and one that commits after it no longer finds the blob held.
        journal.release(entries)
        try await pool.write { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM blob_journal WHERE digest = ?")
            for (digest, _) in entries { try statement.execute(arguments: [digest.hex]) }
        }
        return entries.count
    }

    /// The digests in `blob_journal` (for tests and diagnostics).
    func journaledDigests() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT digest FROM blob_journal ORDER BY digest") }
    }

    /// After a crash: every blob still in `blob_journal` may have no file, or a torn one (it was written without
    /// fsync). Each is checked against its digest, written (replacing whatever file is there) and synced, and
    /// the rows are removed.
    func recoverBlobJournal() throws {
        let rows = try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT digest, content FROM blob_journal").map {
                (hex: $0["digest"] as String, content: $0["content"] as Data)
            }
        }
        guard !rows.isEmpty else { return }
        var recovered: [(digest: BlobDigest, content: ByteBuffer)] = []
        for row in rows {
            let sha256 = MessageDigest(.sha256)
            row.content.withUnsafeBytes { sha256.update($0) }
            guard let digest = BlobDigest(hex: row.hex), digest == BlobDigest(bytes: sha256.finalize()) else {
                throw BlobStoreError(
                    code: .io,
                    message: "metadata.sqlite: blob_journal holds bytes for \(row.hex) that do not hash to it")
            }
            recovered.append((digest, ByteBuffer(bytes: row.content)))
        }
        try BlobStore.writeJournaledNow(
            recovered, paths: recovered.map { blobs.path(for: $0.digest) }, replacing: true,
            temporaryDirectory: blobs.temporaryDirectory
        )
        // Only the rows written out here: a server using this data directory (`cairn token` opens it beside one)
        // may have committed new ones meanwhile.
        try pool.write { db in
            let statement = try db.cachedStatement(sql: "DELETE FROM blob_journal WHERE digest = ?")
            for (digest, _) in recovered { try statement.execute(arguments: [digest.hex]) }
        }
    }
}
