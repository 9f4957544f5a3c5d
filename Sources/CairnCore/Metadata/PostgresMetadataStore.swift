import Foundation
import Logging
import PostgresNIO

/// Buckets, objects, multipart uploads, entries, tokens and the blob registry in PostgreSQL, shared by any number
/// of stateless server nodes.
///
/// The semantics are ``SQLiteMetadataStore``'s: keys are `bytea` of their UTF-8 bytes (so PostgreSQL orders them in
/// S3's binary order), times are seconds since 1970, and every write that names blobs first takes the lock on their
/// `blobs` rows and then checks that the blob store holds them, so retention, which deletes those rows before it
/// removes a blob, cannot remove a blob a committed row names (see ``PostgresRetentionPass``).
///
/// Nothing is cached in memory: every read asks PostgreSQL, so a write committed on one node is what every node
/// reads next (``cachedObject(bucket:key:)`` always answers nil).
///
/// Call ``run()`` in a long-running task (it runs the connection pool) and then ``migrate()`` once before use.
public final class PostgresMetadataStore: MetadataStore {
    let client: PostgresConnectionPool
    let region: String
    /// The blobs this metadata names, checked inside write transactions before a row names them; nil for a store
    /// opened to manage tokens only.
    let blobStore: (any BlobStore)?
    let logger: Logger

    /// A store on the database `url` names (`postgres://user:password@host:port/database`).
    ///
    /// - Parameter blobs: where the blobs that rows name are stored; writes check it before naming a blob. nil opens
    ///   the store for what names no blob (tokens, listings); a write that names a blob then throws.
    /// - Parameter maximumConnections: the pool's size on this node.
    public init(
        url: String, blobs: (any BlobStore)?, region: String = "us-east-1", maximumConnections: Int = 20,
        logger: Logger = Logger(label: "cairn.metadata.postgres")
    ) throws {
        var configuration = try PostgresURL(url).clientConfiguration
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        self.client = PostgresConnectionPool(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger))
        self.region = region
        self.blobStore = blobs
        self.logger = logger
    }

    /// The blob store, or an error saying the store was opened without one.
    var blobs: any BlobStore {
        get throws {
            guard let blobStore else {
                throw PostgresMetadataError(
                    "this PostgreSQL metadata store was opened without its blob store (for tokens only), so it cannot "
                        + "name or remove blobs")
            }
            return blobStore
        }
    }

    /// Runs the connection pool until the task is cancelled; queries wait until this has started.
    public func run() async {
        await client.run()
    }

    // MARK: Buckets

    public func createBucket(_ name: String, at date: Date) async throws {
        let rows = try await client.query(
            """
            INSERT INTO buckets (name, created_at) VALUES (\(name), \(date.timeIntervalSince1970))
            ON CONFLICT (name) DO NOTHING RETURNING 1
            """, logger: logger
        )
        if rows.isEmpty { throw MetadataError.bucketAlreadyExists(name) }
    }

    public func bucket(_ name: String) async throws -> BucketInfo? {
        let rows = try await client.query(
            "SELECT \(unescaped: Self.bucketColumns) FROM buckets WHERE name = \(name)", logger: logger
        )
        return try rows.first.map { try bucketInfo($0) }
    }

    public func buckets() async throws -> [BucketInfo] {
        try await client.query("SELECT \(unescaped: Self.bucketColumns) FROM buckets ORDER BY name", logger: logger)
            .map { try bucketInfo($0) }
    }

    public func deleteBucket(_ name: String) async throws {
        try await transaction { connection in
            let locked = try await self.rows(
                "SELECT 1 FROM buckets WHERE name = \(name) FOR UPDATE", on: connection)
            guard !locked.isEmpty else { throw MetadataError.noSuchBucket(name) }
            let busy = try await self.rows(
                """
                SELECT 1 WHERE EXISTS (SELECT 1 FROM objects WHERE bucket = \(name))
                    OR EXISTS (SELECT 1 FROM object_versions WHERE bucket = \(name))
                    OR EXISTS (SELECT 1 FROM uploads WHERE bucket = \(name))
                """, on: connection)
            if !busy.isEmpty { throw MetadataError.bucketNotEmpty(name) }
            try await self.rows("DELETE FROM buckets WHERE name = \(name)", on: connection)
        }
    }

    // MARK: Objects

    public func putObject(_ object: ObjectInfo, condition: WriteCondition) async throws {
        try await transaction { connection in
            try await self.requireBucket(object.bucket, on: connection)
            try await self.insert(object, condition: condition, on: connection)
        }
    }

    public func object(bucket: String, key: String) async throws -> ObjectInfo? {
        try await client.withConnection { connection in
            try await self.fetchObject(bucket: bucket, key: key, on: connection)
        }
    }

    /// Always nil: no node keeps rows that another node's write could make stale.
    public func cachedObject(bucket: String, key: String) -> ObjectInfo? { nil }

    /// Deletes a key's current object; returns whether it existed. Its blobs stay until retention sweeps them. An
    /// object that object lock protects is refused with ``MetadataError/objectLocked(bucket:key:versionID:)``; in a
    /// bucket that had versioning, the key's next newest version becomes current.
    @discardableResult
    public func deleteObject(bucket: String, key: String) async throws -> Bool {
        try await transaction { connection in
            try await self.requireBucket(bucket, on: connection)
            let keyData = Self.keyData(key)
            try await self.lockKey(bucket: bucket, key: keyData, on: connection)
            if let current = try await self.fetchObject(bucket: bucket, key: key, on: connection),
                current.headers.isLocked(at: Date())
            {
                throw MetadataError.objectLocked(bucket: bucket, key: key, versionID: current.versionID)
            }
            let deleted = try await !self.rows(
                "DELETE FROM objects WHERE bucket = \(bucket) AND key = \(keyData) RETURNING 1", on: connection
            ).isEmpty
            if deleted { try await self.settleLatest(bucket: bucket, key: keyData, on: connection) }
            return deleted
        }
    }

    public func recordAccess(_ accesses: [(bucket: String, key: String, date: Date)]) async throws {
        guard !accesses.isEmpty else { return }
        let buckets = accesses.map(\.bucket)
        // PostgreSQL's client binds no arrays of bytea: the keys travel as hex and are decoded there.
        let keys = accesses.map { Array($0.key.utf8).hexString }
        let dates = accesses.map { $0.date.timeIntervalSince1970 }
        try await client.query(
            """
            UPDATE objects o SET accessed_at = GREATEST(o.accessed_at, a.date)
            FROM unnest(\(buckets)::text[], \(keys)::text[], \(dates)::float8[]) AS a(bucket, key, date)
            WHERE o.bucket = a.bucket AND o.key = decode(a.key, 'hex')
            """, logger: logger
        )
    }

    public func listObjects(
        bucket: String, prefix: String, delimiter: String?, from lowerBound: [UInt8]?, maxKeys: Int
    ) async throws -> ObjectListing {
        try await client.withConnection { connection in
            try await self.requireBucket(bucket, on: connection)
            return try await self.listObjects(
                bucket: bucket, prefix: prefix, delimiter: delimiter, from: lowerBound, maxKeys: maxKeys,
                on: connection)
        }
    }

    // MARK: Multipart uploads

    public func createUpload(_ upload: UploadInfo) async throws {
        try await transaction { connection in
            try await self.requireBucket(upload.bucket, on: connection)
            try await self.rows(
                """
                INSERT INTO uploads (upload_id, bucket, key, headers, checksum_algorithm, created_at)
                VALUES (\(upload.uploadID), \(upload.bucket), \(Self.keyData(upload.key)),
                        \(try SQLiteMetadataStore.json(upload.headers)), \(upload.checksumAlgorithm?.rawValue),
                        \(upload.createdAt.timeIntervalSince1970))
                """, on: connection)
        }
    }

    public func upload(_ uploadID: String) async throws -> UploadInfo? {
        try await client.withConnection { connection in try await self.fetchUpload(uploadID, on: connection) }
    }

    public func putPart(uploadID: String, part: PartInfo) async throws {
        try await transaction { connection in
            guard try await self.fetchUpload(uploadID, lock: "FOR KEY SHARE", on: connection) != nil else {
                throw MetadataError.noSuchUpload(uploadID)
            }
            try await self.nameBlobs([part.segment], at: part.createdAt, on: connection)
            try await self.rows(
                """
                INSERT INTO upload_parts
                    (upload_id, part_number, digest, size, etag, checksum_algorithm, checksum_value, created_at)
                VALUES (\(uploadID), \(part.partNumber), \(part.segment.digest.hex), \(part.segment.size),
                        \(part.etag), \(part.checksum?.algorithm.rawValue), \(part.checksum?.value),
                        \(part.createdAt.timeIntervalSince1970))
                ON CONFLICT (upload_id, part_number) DO UPDATE SET
                    digest = excluded.digest, size = excluded.size, etag = excluded.etag,
                    checksum_algorithm = excluded.checksum_algorithm, checksum_value = excluded.checksum_value,
                    created_at = excluded.created_at
                """, on: connection)
        }
    }

    public func parts(uploadID: String, after marker: Int, limit: Int) async throws -> [PartInfo] {
        try await client.withConnection { connection in
            guard try await self.fetchUpload(uploadID, on: connection) != nil else {
                throw MetadataError.noSuchUpload(uploadID)
            }
            return try await self.fetchParts(uploadID: uploadID, after: marker, limit: limit, on: connection)
        }
    }

    public func uploads(
        bucket: String, prefix: String, keyMarker: String?, uploadIDMarker: String?, limit: Int
    ) async throws -> [UploadInfo] {
        try await client.withConnection { connection in
            try await self.requireBucket(bucket, on: connection)
            let prefixBytes = Array(prefix.utf8)
            // An absent upper bound or marker is passed as NULL and the condition on it then holds.
            let upper = ObjectListing.successor(ofPrefix: prefixBytes).map { Data($0) }
            let keyMarkerData = keyMarker.map(Self.keyData)
            let rows = try await self.rows(
                """
                SELECT \(unescaped: Self.uploadColumns) FROM uploads
                WHERE bucket = \(bucket) AND key >= \(Data(prefixBytes))
                  AND (\(upper)::bytea IS NULL OR key < \(upper)::bytea)
                  AND (\(keyMarkerData)::bytea IS NULL
                       OR key > \(keyMarkerData)::bytea
                       OR (\(uploadIDMarker)::text IS NOT NULL AND key = \(keyMarkerData)::bytea
                           AND upload_id > \(uploadIDMarker)::text))
                ORDER BY key, created_at, upload_id LIMIT \(limit)
                """, on: connection)
            return try rows.map { try Self.uploadInfo($0) }
        }
    }

    public func abortUpload(_ uploadID: String) async throws {
        let rows = try await client.query(
            "DELETE FROM uploads WHERE upload_id = \(uploadID) RETURNING 1", logger: logger
        )
        if rows.isEmpty { throw MetadataError.noSuchUpload(uploadID) }
    }

    public func completeUpload(
        _ uploadID: String, requested: [(partNumber: Int, etag: String)], minimumPartSize: Int64,
        condition: WriteCondition, at date: Date, makeObject: @Sendable (UploadInfo, [PartInfo]) -> ObjectInfo
    ) async throws -> ObjectInfo {
        try await transaction { connection in
            // The row lock makes concurrent completions (from any node) of one upload take turns: the second finds
            // the upload gone.
            guard let upload = try await self.fetchUpload(uploadID, lock: "FOR UPDATE", on: connection) else {
                // A retried Complete whose answer the client never saw gets the object it made, while that is
                // still the key's object.
                if let object = try await self.completedObject(uploadID: uploadID, on: connection) { return object }
                throw MetadataError.noSuchUpload(uploadID)
            }
            let chosen = try PartInfo.chosen(
                requested,
                from: try await self.fetchParts(uploadID: uploadID, after: 0, limit: 10_000, on: connection),
                minimumPartSize: minimumPartSize)
            try await self.requireBucket(upload.bucket, on: connection)
            let object = makeObject(upload, chosen)
            try await self.insert(object, condition: condition, on: connection)
            try await self.rows("DELETE FROM uploads WHERE upload_id = \(uploadID)", on: connection)
            let forgotten = date.addingTimeInterval(-SQLiteMetadataStore.completedUploadMemory).timeIntervalSince1970
            try await self.rows("DELETE FROM completed_uploads WHERE completed_at < \(forgotten)", on: connection)
            try await self.rows(
                """
                INSERT INTO completed_uploads (upload_id, bucket, key, etag, completed_at)
                VALUES (\(uploadID), \(object.bucket), \(Self.keyData(object.key)), \(object.etag),
                        \(date.timeIntervalSince1970))
                """, on: connection)
            return object
        }
    }

    /// The object a completed upload made, while it is still the object at its key; nil otherwise.
    private func completedObject(uploadID: String, on connection: PostgresConnection) async throws -> ObjectInfo? {
        guard
            let row = try await rows(
                "SELECT bucket, key, etag FROM completed_uploads WHERE upload_id = \(uploadID)", on: connection
            ).first
        else { return nil }
        let (bucket, key, etag) = try row.decode((String, Data, String).self)
        guard
            let object = try await fetchObject(
                bucket: bucket, key: String(decoding: key, as: UTF8.self), on: connection),
            object.etag == etag
        else { return nil }
        return object
    }

    // MARK: Maintenance

    /// Nothing is held in memory: every blob is in the blob store before its metadata commits.
    @discardableResult
    public func flushBlobJournal() async throws -> Int { 0 }
}
