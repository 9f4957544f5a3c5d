import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    /// A page of keys (see ``ListingScan``), each batch of rows read with its objects' columns in one query.
    func listObjects(
        bucket: String, prefix: String, delimiter: String?, from lowerBound: [UInt8]?, maxKeys: Int,
        on connection: PostgresConnection
    ) async throws -> ObjectListing {
        var scan = ListingScan<ObjectInfo>(prefix: prefix, delimiter: delimiter, from: lowerBound, maxKeys: maxKeys)
        let upper = scan.upper.map { Data($0) }
        while !scan.isComplete {
            let rows = try await rows(
                """
                SELECT \(unescaped: Self.objectColumns) FROM objects o
                WHERE o.bucket = \(bucket) AND o.key >= \(Data(scan.position.lower))
                  AND (\(upper)::bytea IS NULL OR o.key < \(upper)::bytea)
                ORDER BY o.key LIMIT \(ListingScan<ObjectInfo>.batchSize)
                """, on: connection)
            let objects = try rows.map { row in
                let object = try Self.objectInfo(bucket: bucket, row)
                return (key: Array(object.key.utf8), item: object)
            }
            scan.take(objects) { key, _ in .init(lower: key + [0]) }
        }
        var more = false
        if scan.mayHaveMore {
            more = try await !self.rows(
                """
                SELECT 1 FROM objects WHERE bucket = \(bucket) AND key >= \(Data(scan.position.lower))
                  AND (\(upper)::bytea IS NULL OR key < \(upper)::bytea) LIMIT 1
                """, on: connection
            ).isEmpty
        }
        let entries: [ObjectListing.Entry] = scan.entries.map {
            switch $0 {
            case .commonPrefix(let name): .commonPrefix(name)
            case .item(_, let object): .object(object)
            }
        }
        return ObjectListing(
            entries: entries, isTruncated: more, resumeAt: more ? scan.position.lower : nil, lastName: scan.last?.name)
    }
}

extension PostgresMetadataStore {
    /// One page of a bucket's versions and delete markers under `prefix`, by key and each key's newest first, keys
    /// containing `delimiter` after the prefix grouped into common prefixes; resumes after `keyMarker` (all its
    /// versions, or — with `versionIDMarker` — those older than that version). See ``ListingScan``.
    public func listObjectVersions(
        bucket: String, prefix: String, delimiter: String?, keyMarker: String?, versionIDMarker: String?, maxKeys: Int
    ) async throws -> VersionListing {
        try await client.withConnection { connection in
            try await self.requireBucket(bucket, on: connection)
            var markerOrdinal: Int64?
            if let keyMarker, !keyMarker.isEmpty, let versionIDMarker, !versionIDMarker.isEmpty {
                markerOrdinal = try await self.ordinal(
                    bucket: bucket, key: Self.keyData(keyMarker), versionIDMarker, on: connection)
                if markerOrdinal == nil {
                    throw MetadataError.noSuchVersion(bucket: bucket, key: keyMarker, versionID: versionIDMarker)
                }
            }
            var scan = VersionScan(
                prefix: prefix, delimiter: delimiter, keyMarker: keyMarker, markerOrdinal: markerOrdinal,
                maxKeys: maxKeys)
            let upper = scan.upper.map { Data($0) }
            func rows(at position: VersionScan.Position, limit: Int) async throws -> [(
                key: [UInt8], item: (versionID: String, ordinal: Int64)
            )] {
                let lower = Data(position.lower)
                let skipKey = position.skipped.map { Data($0.key) }
                let skipOrdinal = position.skipped?.ordinal
                return try await self.rows(
                    """
                    SELECT key, version_id, ordinal FROM (
                        SELECT key, version_id, \(Int64.max)::int8 AS ordinal FROM objects
                        WHERE bucket = \(bucket) AND key >= \(lower)
                          AND (\(upper)::bytea IS NULL OR key < \(upper)::bytea)
                        UNION ALL
                        SELECT key, version_id, ordinal FROM object_versions
                        WHERE bucket = \(bucket) AND key >= \(lower)
                          AND (\(upper)::bytea IS NULL OR key < \(upper)::bytea)
                    ) versions
                    WHERE \(skipKey)::bytea IS NULL OR NOT (key = \(skipKey)::bytea AND ordinal >= \(skipOrdinal)::int8)
                    ORDER BY key, ordinal DESC LIMIT \(limit)
                    """, on: connection
                ).map { row in
                    let (key, versionID, ordinal) = try row.decode((Data, String, Int64).self)
                    return ([UInt8](key), (versionID, ordinal))
                }
            }
            while !scan.isComplete {
                let batch = try await rows(at: scan.position, limit: VersionScan.batchSize)
                scan.take(batch) { key, item in .init(lower: key, skipped: (key, item.ordinal)) }
            }
            var more = false
            if scan.mayHaveMore { more = try await !rows(at: scan.position, limit: 1).isEmpty }
            var entries: [VersionListing.Entry] = []
            for entry in scan.entries {
                switch entry {
                case .commonPrefix(let name): entries.append(.commonPrefix(name))
                case .item(let key, let item):
                    if let version = try await self.fetchVersion(
                        bucket: bucket, key: key, versionID: item.versionID, on: connection)
                    {
                        entries.append(.version(version))
                    }
                }
            }
            return VersionListing(
                entries: entries, isTruncated: more, nextKeyMarker: more ? scan.last?.name : nil,
                nextVersionIDMarker: more ? scan.last?.item?.versionID : nil)
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
