import Foundation
import GRDB

/// Versioning over two tables: `objects` holds each key's current version (what reads and listings see, as before
/// versioning), `object_versions` the noncurrent versions and the delete markers. A version names its blobs
/// (`version_segments`) as an object does: no bytes are copied when a version is kept.
extension SQLiteMetadataStore {
    func bucketInfo(_ row: Row) -> BucketInfo {
        BucketInfo(
            name: row["name"], createdAt: Date(timeIntervalSince1970: row["created_at"]), region: region,
            versioning: (row["versioning"] as String?).flatMap(VersioningStatus.init(rawValue:)))
    }

    /// Sets a bucket's versioning state (Enabled or Suspended).
    public func setBucketVersioning(bucket: String, status: VersioningStatus) async throws {
        defer { cachedBuckets.invalidate(ExactText(bucket)) }
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE buckets SET versioning = ? WHERE name = ?", arguments: [status.rawValue, bucket])
            if db.changesCount == 0 { throw MetadataError.noSuchBucket(bucket) }
        }
    }

    /// A version of a key: the latest (object or delete marker) when `versionID` is nil.
    public func objectVersion(bucket: String, key: String, versionID: String?) async throws -> ObjectVersion? {
        try await pool.read { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            return try Self.fetchVersion(db, bucket: bucket, key: key, versionID: versionID)
        }
    }

    /// Hides a key behind a new delete marker with `versionID` (a new id while versioning is enabled, `null`
    /// while suspended); the current version, if any, becomes noncurrent (or, if it is the `null` version and the
    /// marker is too, is replaced).
    public func putDeleteMarker(bucket: String, key: String, versionID: String, at date: Date) async throws
        -> ObjectVersion
    {
        defer { cachedObjects.invalidate(ObjectCacheKey(bucket: bucket, key: key)) }
        return try await pool.write { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            try Self.insertDeleteMarker(db, bucket: bucket, keyData: Self.keyData(key), versionID: versionID, at: date)
            let marker = ObjectInfo(
                bucket: bucket, key: key, size: 0, etag: "", headers: ObjectHeaders(), checksum: nil, partCount: nil,
                createdAt: date, segments: [], versionID: versionID)
            return ObjectVersion(object: marker, isDeleteMarker: true, isLatest: true)
        }
    }

    /// Inside a write transaction: a new delete marker becomes the key's latest version (see
    /// ``putDeleteMarker(bucket:key:versionID:at:)``).
    static func insertDeleteMarker(_ db: Database, bucket: String, keyData: Data, versionID: String, at date: Date)
        throws
    {
        try makeRoom(for: versionID, db: db, bucket: bucket, keyData: keyData, at: date)
        try db.execute(
            sql: """
                INSERT INTO object_versions (bucket, key, version_id, ordinal, delete_marker, size, etag, headers,
                                             created_at, noncurrent_at)
                VALUES (?1, ?2, ?3, (SELECT COALESCE(MAX(ordinal), 0) + 1 FROM object_versions
                                     WHERE bucket = ?1 AND key = ?2), 1, 0, '', ?4, ?5, NULL)
                """,
            arguments: [bucket, keyData, versionID, try json(ObjectHeaders()), date.timeIntervalSince1970])
    }

    /// Deletes one version for good (an object version or a delete marker); the next newest becomes the latest.
    /// Returns what was deleted; nil when the key has no such version. A version that object lock protects at
    /// `date` is refused with ``MetadataError/objectLocked(bucket:key:versionID:)``, unless its retention is
    /// GOVERNANCE and `bypassGovernance` is set (a legal hold is never bypassed).
    public func deleteObjectVersion(
        bucket: String, key: String, versionID: String, bypassGovernance: Bool, at date: Date
    ) async throws -> ObjectVersion? {
        defer { cachedObjects.invalidate(ObjectCacheKey(bucket: bucket, key: key)) }
        return try await pool.write { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            guard let version = try Self.fetchVersion(db, bucket: bucket, key: key, versionID: versionID) else {
                return nil
            }
            if !version.isDeleteMarker, version.object.headers.isLocked(at: date, bypassingGovernance: bypassGovernance)
            {
                throw MetadataError.objectLocked(bucket: bucket, key: key, versionID: versionID)
            }
            let keyData = Self.keyData(key)
            if version.isLatest && !version.isDeleteMarker {
                try db.execute(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?", arguments: [bucket, keyData])
            } else {
                try db.execute(
                    sql: "DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?",
                    arguments: [bucket, keyData, versionID])
            }
            try Self.settleLatest(db, bucket: bucket, keyData: keyData)
            return version
        }
    }

    /// Rewrites one version's headers in place (tags, object lock retention, legal hold) through `update`, in one
    /// transaction; the latest version when `versionID` is nil. Throws `noSuchKey` or `noSuchVersion` when there is
    /// no such object version (a delete marker has no headers to change); what `update` throws is thrown.
    public func updateObjectHeaders(
        bucket: String, key: String, versionID: String?,
        _ update: @Sendable (inout ObjectHeaders) throws -> Void
    ) async throws -> ObjectInfo {
        defer { cachedObjects.invalidate(ObjectCacheKey(bucket: bucket, key: key)) }
        return try await pool.write { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            guard let version = try Self.fetchVersion(db, bucket: bucket, key: key, versionID: versionID),
                !version.isDeleteMarker
            else {
                if let versionID { throw MetadataError.noSuchVersion(bucket: bucket, key: key, versionID: versionID) }
                throw MetadataError.noSuchKey(bucket: bucket, key: key)
            }
            var object = version.object
            try update(&object.headers)
            let table = version.isLatest ? "objects" : "object_versions"
            try db.execute(
                sql: "UPDATE \(table) SET headers = ? WHERE bucket = ? AND key = ? AND version_id = ?",
                arguments: [try Self.json(object.headers), bucket, Self.keyData(key), object.versionID])
            return object
        }
    }

    // MARK: Listing

    /// One page of a bucket's versions and delete markers under `prefix`, by key and each key's newest first,
    /// keys containing `delimiter` after the prefix grouped into common prefixes. Resumes after `keyMarker` (all
    /// its versions, or — with `versionIDMarker` — those older than that version).
    public func listObjectVersions(
        bucket: String, prefix: String, delimiter: String?, keyMarker: String?, versionIDMarker: String?, maxKeys: Int
    ) async throws -> VersionListing {
        try await pool.read { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            var markerOrdinal: Int64?
            if let keyMarker, !keyMarker.isEmpty, let versionIDMarker, !versionIDMarker.isEmpty {
                markerOrdinal = try Self.ordinal(db, bucket: bucket, keyData: Self.keyData(keyMarker), versionIDMarker)
                if markerOrdinal == nil {
                    throw MetadataError.noSuchVersion(bucket: bucket, key: keyMarker, versionID: versionIDMarker)
                }
            }
            var scan = VersionScan(
                prefix: prefix, delimiter: delimiter, keyMarker: keyMarker, markerOrdinal: markerOrdinal,
                maxKeys: maxKeys)
            let range = "bucket = ?1 AND key >= ?2 \(scan.upper == nil ? "" : "AND key < ?3")"
            func rows(limit: Int) throws -> [(key: [UInt8], item: (versionID: String, ordinal: Int64))] {
                var arguments = Self.rangeArguments(bucket, scan.position.lower, scan.upper)
                var skip = ""
                if let skipped = scan.position.skipped {
                    skip = "WHERE NOT (key = ? AND ordinal >= ?)"
                    arguments += [Data(skipped.key), skipped.ordinal]
                }
                arguments += [limit]
                return try Row.fetchAll(
                    db,
                    sql: """
                        SELECT key, version_id, ordinal FROM (
                            SELECT key, version_id, \(Int64.max) AS ordinal FROM objects WHERE \(range)
                            UNION ALL
                            SELECT key, version_id, ordinal FROM object_versions WHERE \(range)
                        ) \(skip) ORDER BY key, ordinal DESC LIMIT ?
                        """,
                    arguments: arguments
                ).map { row in ([UInt8](row["key"] as Data), (row["version_id"], row["ordinal"])) }
            }
            while !scan.isComplete {
                let batch = try rows(limit: VersionScan.batchSize)
                scan.take(batch) { key, item in .init(lower: key, skipped: (key, item.ordinal)) }
            }
            let more = try scan.mayHaveMore && !rows(limit: 1).isEmpty
            var entries: [VersionListing.Entry] = []
            for entry in scan.entries {
                switch entry {
                case .commonPrefix(let name): entries.append(.commonPrefix(name))
                case .item(let key, let item):
                    if let version = try Self.fetchVersion(db, bucket: bucket, key: key, versionID: item.versionID) {
                        entries.append(.version(version))
                    }
                }
            }
            return VersionListing(
                entries: entries, isTruncated: more, nextKeyMarker: more ? scan.last?.name : nil,
                nextVersionIDMarker: more ? scan.last?.item?.versionID : nil)
        }
    }

    // MARK: Rows

    /// Where a version stands in its key's order; the current object's is above every other.
    private static func ordinal(_ db: Database, bucket: String, keyData: Data, _ versionID: String) throws -> Int64? {
        if try String.fetchOne(
            db, sql: "SELECT version_id FROM objects WHERE bucket = ? AND key = ?", arguments: [bucket, keyData])
            == versionID
        {
            return Int64.max
        }
        return try Int64.fetchOne(
            db, sql: "SELECT ordinal FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?",
            arguments: [bucket, keyData, versionID])
    }

    /// One version of a key (the latest when `versionID` is nil), from whichever table holds it.
    static func fetchVersion(_ db: Database, bucket: String, key: String, versionID: String?) throws -> ObjectVersion? {
        if let current = try fetchObject(db, bucket: bucket, key: key),
            versionID == nil || current.versionID == versionID
        {
            return ObjectVersion(object: current, isDeleteMarker: false, isLatest: true)
        }
        let keyData = keyData(key)
        let row: Row?
        if let versionID {
            row = try Row.fetchOne(
                db, sql: "SELECT * FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?",
                arguments: [bucket, keyData, versionID])
        } else {
            // With no current object, the newest version is a delete marker (or there is none).
            row = try Row.fetchOne(
                db, sql: "SELECT * FROM object_versions WHERE bucket = ? AND key = ? ORDER BY ordinal DESC LIMIT 1",
                arguments: [bucket, keyData])
        }
        guard let row else { return nil }
        let id: String = row["version_id"]
        let segments = try Row.fetchAll(
            db,
            sql:
                "SELECT digest, size FROM version_segments WHERE bucket = ? AND key = ? AND version_id = ? ORDER BY seq",
            arguments: [bucket, keyData, id]
        ).map { BlobSegment(digest: BlobDigest(hex: $0["digest"] as String)!, size: $0["size"]) }
        let object = try objectInfo(row, bucket: bucket, key: key, segments: segments)
        let isLatest = (row["noncurrent_at"] as Double?) == nil
        return ObjectVersion(object: object, isDeleteMarker: row["delete_marker"] as Bool, isLatest: isLatest)
    }

    /// Before a new latest version `versionID` of a key is written: the current object becomes noncurrent, or is
    /// replaced when it has that same id (an unversioned overwrite, a `null` version rewritten while suspended, new
    /// tags); a noncurrent `null` version is replaced by a new `null` one; a delete marker that was the latest
    /// becomes noncurrent.
    static func makeRoom(for versionID: String, db: Database, bucket: String, keyData: Data, at date: Date) throws {
        let lock = ObjectHeaders.lockArgument(at: date)
        let row = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT version_id, \(ObjectHeaders.lockedCondition(column: "headers")) AS locked
                    FROM objects WHERE bucket = ? AND key = ?
                    """),
            arguments: [lock, bucket, keyData])
        let current = row.map { $0["version_id"] as String }
        // Replacing a version deletes it: never one that object lock protects, whoever writes.
        if let row, current == versionID, row["locked"] as Bool {
            throw MetadataError.objectLocked(
                bucket: bucket, key: String(decoding: keyData, as: UTF8.self), versionID: versionID)
        }
        let time = date.timeIntervalSince1970
        if let current, current != versionID {
            try db.cachedStatement(
                sql: """
                    INSERT INTO object_versions (bucket, key, version_id, ordinal, delete_marker, size, etag, headers,
                                                 checksum_algorithm, checksum_value, part_count, created_at,
                                                 noncurrent_at)
                    SELECT bucket, key, version_id, (SELECT COALESCE(MAX(ordinal), 0) + 1 FROM object_versions
                                                     WHERE bucket = ?1 AND key = ?2),
                           0, size, etag, headers, checksum_algorithm, checksum_value, part_count, created_at, ?3
                    FROM objects WHERE bucket = ?1 AND key = ?2
                    """
            ).execute(arguments: [bucket, keyData, time])
            try db.cachedStatement(
                sql: """
                    INSERT INTO version_segments (bucket, key, version_id, seq, digest, size)
                    SELECT bucket, key, ?3, seq, digest, size FROM object_segments WHERE bucket = ?1 AND key = ?2
                    """
            ).execute(arguments: [bucket, keyData, current])
        }
        if current != nil {
            try db.cachedStatement(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?").execute(arguments: [
                bucket, keyData,
            ])
        }
        if versionID == ObjectInfo.nullVersionID {
            let lockedNull =
                try Bool.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT EXISTS (SELECT 1 FROM object_versions WHERE bucket = ? AND key = ?
                                           AND version_id = 'null' AND \(ObjectHeaders.lockedCondition(column: "headers")))
                            """),
                    arguments: [bucket, keyData, lock]) ?? false
            if lockedNull {
                throw MetadataError.objectLocked(
                    bucket: bucket, key: String(decoding: keyData, as: UTF8.self), versionID: versionID)
            }
            try db.cachedStatement(
                sql: "DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = 'null'"
            ).execute(arguments: [bucket, keyData])
        }
        try db.cachedStatement(
            sql: "UPDATE object_versions SET noncurrent_at = ? WHERE bucket = ? AND key = ? AND noncurrent_at IS NULL"
        ).execute(arguments: [time, bucket, keyData])
    }

    /// After a key's latest version was deleted: its newest remaining version becomes the latest — an object
    /// version moves back into `objects`, a delete marker is marked latest. Nothing to do while `objects` has the
    /// key.
    static func settleLatest(_ db: Database, bucket: String, keyData: Data) throws {
        let hasCurrent =
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ? AND key = ?)",
                arguments: [bucket, keyData]) ?? false
        guard !hasCurrent,
            let newest = try Row.fetchOne(
                db,
                sql: """
                    SELECT version_id, delete_marker FROM object_versions WHERE bucket = ? AND key = ?
                    ORDER BY ordinal DESC LIMIT 1
                    """,
                arguments: [bucket, keyData])
        else { return }
        let versionID: String = newest["version_id"]
        let arguments: StatementArguments = [bucket, keyData, versionID]
        if newest["delete_marker"] as Bool {
            try db.execute(
                sql: "UPDATE object_versions SET noncurrent_at = NULL WHERE bucket = ? AND key = ? AND version_id = ?",
                arguments: arguments)
            return
        }
        // One statement each: GRDB hands each statement of a multi-statement string its own share of the arguments.
        for sql in [
            """
            INSERT INTO objects (bucket, key, size, etag, headers, checksum_algorithm, checksum_value, part_count,
                                 created_at, accessed_at, version_id)
            SELECT bucket, key, size, etag, headers, checksum_algorithm, checksum_value, part_count, created_at,
                   created_at, version_id
            FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?
            """,
            """
            INSERT INTO object_segments (bucket, key, seq, digest, size)
            SELECT bucket, key, seq, digest, size FROM version_segments WHERE bucket = ? AND key = ? AND version_id = ?
            """,
            "DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?",
        ] {
            try db.execute(sql: sql, arguments: arguments)
        }
    }
}
