import GRDB

extension SQLiteMetadataStore {
    /// Every cache namespace's entries and bytes, logical and held by it alone, by name.
    public func namespaceUsage() async throws -> [NamespaceUsage] {
        try await pool.read { db in
            var unique: [String: Int64] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT mine.namespace, SUM(b.size)
                    FROM (SELECT DISTINCT namespace, digest FROM action_entry_blobs) mine
                    JOIN blobs b ON b.digest = mine.digest
                    WHERE NOT EXISTS (
                        SELECT 1 FROM action_entry_blobs other
                        WHERE other.digest = mine.digest AND other.namespace <> mine.namespace)
                    AND NOT EXISTS (SELECT 1 FROM object_segments s WHERE s.digest = mine.digest)
                    GROUP BY mine.namespace
                    """)
            {
                unique[row[0]] = row[1]
            }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT namespace, COUNT(*), COALESCE(SUM(total_size), 0) FROM action_entries
                    GROUP BY namespace ORDER BY namespace
                    """
            ).map { row in
                let namespace: String = row[0]
                return NamespaceUsage(
                    namespace: namespace, entries: row[1], logicalBytes: row[2], uniqueBytes: unique[namespace] ?? 0)
            }
        }
    }
}
