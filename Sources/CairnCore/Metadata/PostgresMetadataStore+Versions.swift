import Foundation
import PostgresNIO

/// Versioning over PostgreSQL, as the embedded store keeps it: `objects` holds each key's current version,
/// `object_versions` the noncurrent versions and the delete markers, `version_segments` their blobs. Every write
/// that reorders a key's versions holds the key's advisory lock (``lockKey(bucket:key:on:)``), so writers on
/// different nodes take turns per key.
extension PostgresMetadataStore {
    /// Sets a bucket's versioning state (Enabled or Suspended).
    public func setBucketVersioning(bucket: String, status: VersioningStatus) async throws {
        let rows = try await client.query(
            "UPDATE buckets SET versioning = \(status.rawValue) WHERE name = \(bucket) RETURNING 1", logger: logger
        )
        if rows.isEmpty { throw MetadataError.noSuchBucket(bucket) }
    }

    /// A version of a key: the latest (object or delete marker) when `versionID` is nil.
    public func objectVersion(bucket: String, key: String, versionID: String?) async throws -> ObjectVersion? {
        try await client.withConnection { connection in
            try await self.requireBucket(bucket, on: connection)
            return try await self.fetchVersion(bucket: bucket, key: key, versionID: versionID, on: connection)
        }
    }

    /// Hides a key behind a new delete marker with `versionID`; the current version, if any, becomes noncurrent
    /// (or, if it is the `null` version and the marker is too, is replaced).
    public func putDeleteMarker(bucket: String, key: String, versionID: String, at date: Date) async throws
        -> ObjectVersion
    {
        try await transaction { connection in
            try await self.requireBucket(bucket, on: connection)
            let keyData = Self.keyData(key)
            try await self.lockKey(bucket: bucket, key: keyData, on: connection)
            try await self.insertDeleteMarker(
                bucket: bucket, key: keyData, versionID: versionID, at: date, on: connection)
            let marker = ObjectInfo(
                bucket: bucket, key: key, size: 0, etag: "", headers: ObjectHeaders(), checksum: nil, partCount: nil,
                createdAt: date, segments: [], versionID: versionID)
            return ObjectVersion(object: marker, isDeleteMarker: true, isLatest: true)
        }
    }

    /// Deletes one version for good; the next newest becomes the latest. nil when the key has no such version. A
    /// version object lock protects at `date` is refused, unless its retention is GOVERNANCE and
    /// `bypassGovernance` is set (a legal hold is never bypassed).
    public func deleteObjectVersion(
        bucket: String, key: String, versionID: String, bypassGovernance: Bool, at date: Date
    ) async throws -> ObjectVersion? {
        try await transaction { connection in
            try await self.requireBucket(bucket, on: connection)
            let keyData = Self.keyData(key)
            try await self.lockKey(bucket: bucket, key: keyData, on: connection)
            guard
                let version = try await self.fetchVersion(
                    bucket: bucket, key: key, versionID: versionID, on: connection)
            else { return nil }
            if !version.isDeleteMarker, version.object.headers.isLocked(at: date, bypassingGovernance: bypassGovernance)
            {
                throw MetadataError.objectLocked(bucket: bucket, key: key, versionID: versionID)
            }
            if version.isLatest && !version.isDeleteMarker {
                try await self.rows("DELETE FROM objects WHERE bucket = \(bucket) AND key = \(keyData)", on: connection)
            } else {
                try await self.rows(
                    """
                    DELETE FROM object_versions WHERE bucket = \(bucket) AND key = \(keyData) AND version_id = \(versionID)
                    """, on: connection)
            }
            try await self.settleLatest(bucket: bucket, key: keyData, on: connection)
            return version
        }
    }

    /// Rewrites one version's headers in place through `update`, in one transaction; the latest when `versionID`
    /// is nil. A delete marker has no headers: `noSuchKey` or `noSuchVersion`.
    public func updateObjectHeaders(
        bucket: String, key: String, versionID: String?, _ update: @Sendable (inout ObjectHeaders) throws -> Void
    ) async throws -> ObjectInfo {
        try await transaction { connection in
            try await self.requireBucket(bucket, on: connection)
            let keyData = Self.keyData(key)
            try await self.lockKey(bucket: bucket, key: keyData, on: connection)
            guard
                let version = try await self.fetchVersion(
                    bucket: bucket, key: key, versionID: versionID, on: connection),
                !version.isDeleteMarker
            else {
                if let versionID { throw MetadataError.noSuchVersion(bucket: bucket, key: key, versionID: versionID) }
                throw MetadataError.noSuchKey(bucket: bucket, key: key)
            }
            var object = version.object
            try update(&object.headers)
            let headers = try SQLiteMetadataStore.json(object.headers)
            let table = version.isLatest ? "objects" : "object_versions"
            try await self.rows(
                """
                UPDATE \(unescaped: table) SET headers = \(headers)
                WHERE bucket = \(bucket) AND key = \(keyData) AND version_id = \(object.versionID)
                """, on: connection)
            return object
        }
    }

    // MARK: Rows

    static let versionColumns = """
        v.key, v.size, v.etag, v.headers, v.checksum_algorithm, v.checksum_value, v.part_count, v.created_at,
        ARRAY(SELECT s.digest FROM version_segments s
              WHERE s.bucket = v.bucket AND s.key = v.key AND s.version_id = v.version_id ORDER BY s.seq),
        ARRAY(SELECT s.size FROM version_segments s
              WHERE s.bucket = v.bucket AND s.key = v.key AND s.version_id = v.version_id ORDER BY s.seq),
        v.version_id, v.delete_marker, v.noncurrent_at
        """

    static func objectVersion(bucket: String, _ row: PostgresRow) throws -> ObjectVersion {
        let (key, size, etag, headers, algorithm, value, partCount, created, digests, sizes, id, marker, noncurrent) =
            try row.decode(
                (
                    Data, Int64, String, String, String?, String?, Int?, Double, [String], [Int64], String, Bool,
                    Double?
                ).self)
        let object = ObjectInfo(
            bucket: bucket, key: String(decoding: key, as: UTF8.self), size: size, etag: etag,
            headers: try SQLiteMetadataStore.headers(headers), checksum: checksum(algorithm, value),
            partCount: partCount, createdAt: Date(timeIntervalSince1970: created),
            segments: zip(digests, sizes).map { BlobSegment(digest: BlobDigest(hex: $0)!, size: $1) }, versionID: id)
        return ObjectVersion(object: object, isDeleteMarker: marker, isLatest: noncurrent == nil)
    }

    /// One version of a key (the latest when `versionID` is nil), from whichever table holds it.
    func fetchVersion(bucket: String, key: String, versionID: String?, on connection: PostgresConnection)
        async throws -> ObjectVersion?
    {
        if let current = try await fetchObject(bucket: bucket, key: key, on: connection),
            versionID == nil || current.versionID == versionID
        {
            return ObjectVersion(object: current, isDeleteMarker: false, isLatest: true)
        }
        let keyData = Self.keyData(key)
        // With no current object, the newest version is a delete marker (or there is none).
        let rows = try await rows(
            """
            SELECT \(unescaped: Self.versionColumns) FROM object_versions v
            WHERE v.bucket = \(bucket) AND v.key = \(keyData)
              AND (\(versionID)::text IS NULL OR v.version_id = \(versionID)::text)
            ORDER BY v.ordinal DESC LIMIT 1
            """, on: connection)
        return try rows.first.map { try Self.objectVersion(bucket: bucket, $0) }
    }

    /// Inside a write transaction holding the key's lock: a new delete marker becomes the key's latest version.
    func insertDeleteMarker(
        bucket: String, key: Data, versionID: String, at date: Date, on connection: PostgresConnection
    )
        async throws
    {
        try await makeRoom(for: versionID, bucket: bucket, key: key, at: date, on: connection)
        try await rows(
            """
            INSERT INTO object_versions (bucket, key, version_id, ordinal, delete_marker, size, etag, headers,
                                         created_at, noncurrent_at)
            VALUES (\(bucket), \(key), \(versionID),
                    (SELECT COALESCE(MAX(ordinal), 0) + 1 FROM object_versions WHERE bucket = \(bucket) AND key = \(key)),
                    true, 0, '', \(try SQLiteMetadataStore.json(ObjectHeaders())), \(date.timeIntervalSince1970), NULL)
            """, on: connection)
    }

    /// Inside a write transaction holding the key's lock, before a new latest version `versionID` is written: the
    /// current object becomes noncurrent, or is replaced when it has that same id; a noncurrent `null` version is
    /// replaced by a new `null` one; a delete marker that was the latest becomes noncurrent. A version object lock
    /// protects is never replaced, whoever writes.
    func makeRoom(for versionID: String, bucket: String, key: Data, at date: Date, on connection: PostgresConnection)
        async throws
    {
        let time = date.timeIntervalSince1970
        let current = try await rows(
            """
            SELECT version_id, \(unescaped: Self.lockedCondition("headers", at: date))
            FROM objects WHERE bucket = \(bucket) AND key = \(key) FOR UPDATE
            """, on: connection
        ).first.map { try $0.decode((String, Bool).self) }
        if let current, current.0 == versionID, current.1 {
            throw MetadataError.objectLocked(
                bucket: bucket, key: String(decoding: key, as: UTF8.self), versionID: versionID)
        }
        if let current, current.0 != versionID {
            try await rows(
                """
                INSERT INTO object_versions (bucket, key, version_id, ordinal, delete_marker, size, etag, headers,
                                             checksum_algorithm, checksum_value, part_count, created_at,
                                             noncurrent_at)
                SELECT bucket, key, version_id,
                       (SELECT COALESCE(MAX(ordinal), 0) + 1 FROM object_versions
                        WHERE bucket = \(bucket) AND key = \(key)),
                       false, size, etag, headers, checksum_algorithm, checksum_value, part_count, created_at, \(time)
                FROM objects WHERE bucket = \(bucket) AND key = \(key)
                """, on: connection)
            try await rows(
                """
                INSERT INTO version_segments (bucket, key, version_id, seq, digest, size)
                SELECT bucket, key, \(current.0), seq, digest, size FROM object_segments
                WHERE bucket = \(bucket) AND key = \(key)
                """, on: connection)
        }
        if current != nil {
            try await rows("DELETE FROM objects WHERE bucket = \(bucket) AND key = \(key)", on: connection)
        }
        if versionID == ObjectInfo.nullVersionID {
            let lockedNull = try await rows(
                """
                SELECT 1 FROM object_versions WHERE bucket = \(bucket) AND key = \(key) AND version_id = 'null'
                  AND \(unescaped: Self.lockedCondition("headers", at: date))
                """, on: connection)
            if !lockedNull.isEmpty {
                throw MetadataError.objectLocked(
                    bucket: bucket, key: String(decoding: key, as: UTF8.self), versionID: versionID)
            }
            try await rows(
                "DELETE FROM object_versions WHERE bucket = \(bucket) AND key = \(key) AND version_id = 'null'",
                on: connection)
        }
        try await rows(
            """
            UPDATE object_versions SET noncurrent_at = \(time)
            WHERE bucket = \(bucket) AND key = \(key) AND noncurrent_at IS NULL
            """, on: connection)
    }

    /// Inside a write transaction, after a key's latest version was deleted: its newest remaining version becomes
    /// the latest (an object version moves back into `objects`, a delete marker is marked latest). Nothing to do
    /// while `objects` has the key.
    func settleLatest(bucket: String, key: Data, on connection: PostgresConnection) async throws {
        let hasCurrent = try await rows(
            "SELECT 1 FROM objects WHERE bucket = \(bucket) AND key = \(key)", on: connection)
        guard hasCurrent.isEmpty,
            let newest = try await rows(
                """
                SELECT version_id, delete_marker FROM object_versions WHERE bucket = \(bucket) AND key = \(key)
                ORDER BY ordinal DESC LIMIT 1
                """, on: connection
            ).first
        else { return }
        let (versionID, isDeleteMarker) = try newest.decode((String, Bool).self)
        if isDeleteMarker {
            try await rows(
                """
                UPDATE object_versions SET noncurrent_at = NULL
                WHERE bucket = \(bucket) AND key = \(key) AND version_id = \(versionID)
                """, on: connection)
            return
        }
        try await rows(
            """
            INSERT INTO objects (bucket, key, size, etag, headers, checksum_algorithm, checksum_value, part_count,
                                 created_at, accessed_at, version_id)
            SELECT bucket, key, size, etag, headers, checksum_algorithm, checksum_value, part_count, created_at,
                   created_at, version_id
            FROM object_versions WHERE bucket = \(bucket) AND key = \(key) AND version_id = \(versionID)
            """, on: connection)
        try await rows(
            """
            INSERT INTO object_segments (bucket, key, seq, digest, size)
            SELECT bucket, key, seq, digest, size FROM version_segments
            WHERE bucket = \(bucket) AND key = \(key) AND version_id = \(versionID)
            """, on: connection)
        try await rows(
            "DELETE FROM object_versions WHERE bucket = \(bucket) AND key = \(key) AND version_id = \(versionID)",
            on: connection)
    }
}
