import GRDB

extension SQLiteMetadataStore {
    /// Counts and sizes of objects, cache entries and blobs, read in one snapshot.
    public func usage() async throws -> StorageUsage {
        try await pool.read { db in
            var usage = StorageUsage()
            if let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM objects") {
                usage.objects = row[0]
                usage.objectBytes = row[1]
            }
            if let row = try Row.fetchOne(
                db, sql: "SELECT COUNT(*), COALESCE(SUM(total_size), 0) FROM action_entries")
            {
                usage.entries = row[0]
                usage.entryBytes = row[1]
            }
            if let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM blobs") {
                usage.blobs = row[0]
                usage.blobBytes = row[1]
            }
            return usage
        }
    }
}
