import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    /// ``SQLiteMetadataStore``'s listing over PostgreSQL: keys in byte order from `lowerBound`, grouped on
    /// `delimiter`, each batch of rows read with its segments in one query.
    func listObjects(
        bucket: String, prefix: String, delimiter: String?, from lowerBound: [UInt8]?, maxKeys: Int,
        on connection: PostgresConnection
    ) async throws -> ObjectListing {
        let prefixBytes = Array(prefix.utf8)
        let upper = ObjectListing.successor(ofPrefix: prefixBytes).map { Data($0) }
        var lower = prefixBytes
        if let lowerBound, prefixBytes.lexicographicallyPrecedes(lowerBound) { lower = lowerBound }
        var entries: [ObjectListing.Entry] = []
        var lastName: String?
        let delimiter = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let batch = 1000
        scan: while entries.count < maxKeys {
            let rows = try await rows(
                """
                SELECT \(unescaped: Self.objectColumns) FROM objects o
                WHERE o.bucket = \(bucket) AND o.key >= \(Data(lower))
                  AND (\(upper)::bytea IS NULL OR o.key < \(upper)::bytea)
                ORDER BY o.key LIMIT \(batch)
                """, on: connection)
            if rows.isEmpty { break }
            for row in rows {
                if entries.count == maxKeys { break scan }
                let object = try Self.objectInfo(bucket: bucket, row)
                let keyBytes = Array(object.key.utf8)
                let rest = keyBytes[prefixBytes.count...]
                if let delimiter, let range = SQLiteMetadataStore.firstRange(of: delimiter, in: rest) {
                    let common = Array(keyBytes[..<range.upperBound])
                    let name = String(decoding: common, as: UTF8.self)
                    entries.append(.commonPrefix(name))
                    lastName = name
                    guard let next = ObjectListing.successor(ofPrefix: common) else {
                        lower = []
                        break scan
                    }
                    lower = next
                    continue scan
                }
                entries.append(.object(object))
                lastName = object.key
                lower = keyBytes + [0]
            }
            if rows.count < batch { break }
        }
        var more = false
        if entries.count == maxKeys && !lower.isEmpty {
            more = try await !self.rows(
                """
                SELECT 1 FROM objects WHERE bucket = \(bucket) AND key >= \(Data(lower))
                  AND (\(upper)::bytea IS NULL OR key < \(upper)::bytea) LIMIT 1
                """, on: connection
            ).isEmpty
        }
        return ObjectListing(entries: entries, isTruncated: more, resumeAt: more ? lower : nil, lastName: lastName)
    }
}

extension PostgresMetadataStore {
    /// One page of a bucket's versions and delete markers under `prefix`, by key and each key's newest first, keys
    /// containing `delimiter` after the prefix grouped into common prefixes; resumes after `keyMarker` (all its
    /// versions, or — with `versionIDMarker` — those older than that version). The embedded store's scan.
    public func listObjectVersions(
        bucket: String, prefix: String, delimiter: String?, keyMarker: String?, versionIDMarker: String?, maxKeys: Int
    ) async throws -> VersionListing {
        try await client.withConnection { connection in
            try await self.requireBucket(bucket, on: connection)
            let prefixBytes = Array(prefix.utf8)
            let upper = ObjectListing.successor(ofPrefix: prefixBytes).map { Data($0) }
            let delimiter = delimiter.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
            // The scan's position: keys from `lower` on, less the versions of `skipped.key` at or above its ordinal.
            var lower = prefixBytes
            var skipped: (key: [UInt8], ordinal: Int64)?
            if let keyMarker, !keyMarker.isEmpty {
                let markerBytes = Array(keyMarker.utf8)
                if let versionIDMarker, !versionIDMarker.isEmpty {
                    guard
                        let ordinal = try await self.ordinal(
                            bucket: bucket, key: Data(markerBytes), versionIDMarker, on: connection)
                    else {
                        throw MetadataError.noSuchVersion(bucket: bucket, key: keyMarker, versionID: versionIDMarker)
                    }
                    skipped = (markerBytes, ordinal)
                    if prefixBytes.lexicographicallyPrecedes(markerBytes) { lower = markerBytes }
                } else {
                    var next = markerBytes + [0]
                    // A marker inside a common prefix (a page that ended on it) resumes past the whole prefix.
                    if let delimiter, markerBytes.starts(with: prefixBytes),
                        let range = SQLiteMetadataStore.firstRange(of: delimiter, in: markerBytes[prefixBytes.count...])
                    {
                        next = ObjectListing.successor(ofPrefix: Array(markerBytes[..<range.upperBound])) ?? next
                    }
                    if prefixBytes.lexicographicallyPrecedes(next) { lower = next }
                }
            }
            var entries: [VersionListing.Entry] = []
            var nextKey: String?
            var nextVersion: String?
            func rows(limit: Int) async throws -> [(Data, String, Int64)] {
                let skipKey = skipped.map { Data($0.key) }
                let skipOrdinal = skipped?.ordinal
                return try await self.rows(
                    """
                    SELECT key, version_id, ordinal FROM (
                        SELECT key, version_id, \(Int64.max)::int8 AS ordinal FROM objects
                        WHERE bucket = \(bucket) AND key >= \(Data(lower))
                          AND (\(upper)::bytea IS NULL OR key < \(upper)::bytea)
                        UNION ALL
                        SELECT key, version_id, ordinal FROM object_versions
                        WHERE bucket = \(bucket) AND key >= \(Data(lower))
                          AND (\(upper)::bytea IS NULL OR key < \(upper)::bytea)
                    ) versions
                    WHERE \(skipKey)::bytea IS NULL OR NOT (key = \(skipKey)::bytea AND ordinal >= \(skipOrdinal)::int8)
                    ORDER BY key, ordinal DESC LIMIT \(limit)
                    """, on: connection
                ).map { try $0.decode((Data, String, Int64).self) }
            }
            var exhausted = false
            scan: while entries.count < maxKeys {
                let batch = try await rows(limit: 1000)
                if batch.isEmpty {
                    exhausted = true
                    break
                }
                for (keyData, versionID, ordinal) in batch {
                    if entries.count == maxKeys { break scan }
                    let keyBytes = [UInt8](keyData)
                    if let delimiter,
                        let range = SQLiteMetadataStore.firstRange(of: delimiter, in: keyBytes[prefixBytes.count...])
                    {
                        let common = Array(keyBytes[..<range.upperBound])
                        let name = String(decoding: common, as: UTF8.self)
                        entries.append(.commonPrefix(name))
                        (nextKey, nextVersion) = (name, nil)
                        skipped = nil
                        guard let next = ObjectListing.successor(ofPrefix: common) else {
                            exhausted = true
                            break scan
                        }
                        lower = next
                        continue scan
                    }
                    let key = String(decoding: keyBytes, as: UTF8.self)
                    if let version = try await self.fetchVersion(
                        bucket: bucket, key: key, versionID: versionID, on: connection)
                    {
                        entries.append(.version(version))
                    }
                    (nextKey, nextVersion) = (key, versionID)
                    lower = keyBytes
                    skipped = (keyBytes, ordinal)
                }
                if batch.count < 1000 {
                    exhausted = true
                    break
                }
            }
            var more = false
            if !exhausted { more = try await !rows(limit: 1).isEmpty }
            return VersionListing(
                entries: entries, isTruncated: more, nextKeyMarker: more ? nextKey : nil,
                nextVersionIDMarker: more ? nextVersion : nil)
        }
    }

    /// Where a version stands in its key's order; the current object's is above every other.
    private func ordinal(bucket: String, key: Data, _ versionID: String, on connection: PostgresConnection)
        async throws -> Int64?
    {
        let current = try await rows(
            "SELECT version_id FROM objects WHERE bucket = \(bucket) AND key = \(key)", on: connection
        ).first?.decode(String.self)
        if current == versionID { return Int64.max }
        return try await rows(
            """
            SELECT ordinal FROM object_versions WHERE bucket = \(bucket) AND key = \(key) AND version_id = \(versionID)
            """, on: connection
        ).first?.decode(Int64.self)
    }
}
