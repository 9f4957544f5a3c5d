import PostgresNIO

extension PostgresMetadataStore {
    /// Counts and sizes of objects, cache entries and blobs, read in one snapshot.
    public func usage() async throws -> StorageUsage {
        let rows = try await client.query(
            """
            SELECT (SELECT COUNT(*) FROM objects), (SELECT COALESCE(SUM(size), 0)::int8 FROM objects),
                   (SELECT COUNT(*) FROM action_entries),
                   (SELECT COALESCE(SUM(total_size), 0)::int8 FROM action_entries),
                   (SELECT COUNT(*) FROM blobs), (SELECT COALESCE(SUM(size), 0)::int8 FROM blobs)
            """, logger: logger
        )
        var usage = StorageUsage()
        if let row = rows.first {
            let (objects, objectBytes, entries, entryBytes, blobs, blobBytes) = try row.decode(
                (Int, Int64, Int, Int64, Int, Int64).self)
            (usage.objects, usage.objectBytes, usage.entries) = (objects, objectBytes, entries)
            (usage.entryBytes, usage.blobs, usage.blobBytes) = (entryBytes, blobs, blobBytes)
        }
        return usage
    }

    /// Every cache namespace's entries and bytes, logical and held by it alone (blobs no other namespace and no
    /// object names), by name.
    public func namespaceUsage() async throws -> [NamespaceUsage] {
        try await client.withConnection { connection in
            var unique: [String: Int64] = [:]
            for row in try await self.rows(
                """
                SELECT mine.namespace, SUM(b.size)::int8
                FROM (SELECT DISTINCT namespace, digest FROM action_entry_blobs) mine
                JOIN blobs b ON b.digest = mine.digest
                WHERE NOT EXISTS (
                    SELECT 1 FROM action_entry_blobs other
                    WHERE other.digest = mine.digest AND other.namespace <> mine.namespace)
                AND NOT EXISTS (SELECT 1 FROM object_segments s WHERE s.digest = mine.digest)
                GROUP BY mine.namespace
                """, on: connection)
            {
                let (namespace, bytes) = try row.decode((String, Int64).self)
                unique[namespace] = bytes
            }
            return try await self.rows(
                """
                SELECT namespace, COUNT(*), COALESCE(SUM(total_size), 0)::int8 FROM action_entries
                GROUP BY namespace ORDER BY namespace
                """, on: connection
            ).map { row in
                let (namespace, entries, logical) = try row.decode((String, Int, Int64).self)
                return NamespaceUsage(
                    namespace: namespace, entries: entries, logicalBytes: logical, uniqueBytes: unique[namespace] ?? 0)
            }
        }
    }
}
