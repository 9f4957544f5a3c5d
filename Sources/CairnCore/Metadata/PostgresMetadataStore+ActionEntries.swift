import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    public func putEntry(_ entry: ActionEntry) async throws {
        try await transaction { connection in
            // The value must exist; a missing reference only makes the entry a miss until it is stored.
            try await self.nameBlobs([entry.value], at: entry.createdAt, on: connection)
            let time = entry.createdAt.timeIntervalSince1970
            try await self.rows(
                """
                INSERT INTO action_entries
                    (namespace, key, value_digest, value_size, total_size, attributes, created_at, accessed_at)
                VALUES (\(entry.namespace), \(entry.key), \(entry.value.digest.hex), \(entry.value.size),
                        \(entry.totalSize), \(try SQLiteMetadataStore.jsonAttributes(entry.attributes)), \(time),
                        \(time))
                ON CONFLICT (namespace, key) DO UPDATE SET
                    value_digest = excluded.value_digest, value_size = excluded.value_size,
                    total_size = excluded.total_size, attributes = excluded.attributes,
                    created_at = excluded.created_at, accessed_at = excluded.accessed_at
                """, on: connection)
            try await self.rows(
                "DELETE FROM action_entry_blobs WHERE namespace = \(entry.namespace) AND key = \(entry.key)",
                on: connection)
            let digests = Set([entry.value.digest] + entry.references).sorted().map(\.hex)
            try await self.rows(
                """
                INSERT INTO action_entry_blobs (namespace, key, digest)
                SELECT \(entry.namespace), \(entry.key), d FROM unnest(\(digests)::text[]) AS d
                """, on: connection)
            let references = Set(entry.references).subtracting([entry.value.digest]).sorted().map(\.hex)
            try await self.rows(
                """
                UPDATE blobs SET created_at = GREATEST(created_at, \(time))
                WHERE digest IN (SELECT unnest(\(references)::text[]))
                """, on: connection)
        }
    }

    public func entry(namespace: String, key: String) async throws -> ActionEntry? {
        let rows = try await client.query(
            """
            SELECT value_digest, value_size, total_size, attributes, created_at,
                   ARRAY(SELECT digest FROM action_entry_blobs b
                         WHERE b.namespace = e.namespace AND b.key = e.key ORDER BY digest)
            FROM action_entries e WHERE namespace = \(namespace) AND key = \(key)
            """, logger: logger
        )
        guard let row = rows.first else { return nil }
        let (valueDigest, valueSize, totalSize, attributes, created, digests) = try row.decode(
            (String, Int64, Int64, String, Double, [String]).self)
        let value = BlobSegment(digest: BlobDigest(hex: valueDigest)!, size: valueSize)
        return ActionEntry(
            namespace: namespace, key: key, value: value,
            references: digests.compactMap(BlobDigest.init(hex:)).filter { $0 != value.digest },
            attributes: try JSONDecoder().decode([String: String].self, from: Data(attributes.utf8)),
            totalSize: totalSize, createdAt: Date(timeIntervalSince1970: created))
    }

    @discardableResult
    public func deleteEntry(namespace: String, key: String) async throws -> Bool {
        try await !client.query(
            "DELETE FROM action_entries WHERE namespace = \(namespace) AND key = \(key) RETURNING 1", logger: logger
        ).isEmpty
    }

    public func recordEntryAccess(_ accesses: [(namespace: String, key: String, date: Date)]) async throws {
        guard !accesses.isEmpty else { return }
        let namespaces = accesses.map(\.namespace)
        let keys = accesses.map(\.key)
        let dates = accesses.map { $0.date.timeIntervalSince1970 }
        try await client.query(
            """
            UPDATE action_entries e SET accessed_at = GREATEST(e.accessed_at, a.date)
            FROM unnest(\(namespaces)::text[], \(keys)::text[], \(dates)::float8[]) AS a(namespace, key, date)
            WHERE e.namespace = a.namespace AND e.key = a.key
            """, logger: logger
        )
    }

    public func registerBlobs(_ segments: [BlobSegment], at date: Date) async throws {
        guard !segments.isEmpty else { return }
        try await transaction { connection in try await self.registerBlobs(segments, at: date, on: connection) }
    }
}
