import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    static func keyData(_ key: String) -> Data { Data(key.utf8) }

    /// The rows of a query on a connection the caller holds (inside a transaction, or for several reads).
    @discardableResult
    func rows(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }

    /// Runs `body` in one transaction on one pooled connection: committed when it returns, rolled back when it
    /// throws. Errors reach the caller as `body` threw them (a ``MetadataError`` stays one).
    func transaction<Result: Sendable>(
        _ body: @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await client.withConnection { connection in
            try await self.rows("BEGIN", on: connection)
            let result: Result
            do {
                result = try await body(connection)
            } catch {
                _ = try? await self.rows("ROLLBACK", on: connection)
                throw error
            }
            try await self.rows("COMMIT", on: connection)
            return result
        }
    }

    static let bucketColumns = "name, created_at, versioning"

    func bucketInfo(_ row: PostgresRow) throws -> BucketInfo {
        let (name, created, versioning) = try row.decode((String, Double, String?).self)
        return BucketInfo(
            name: name, createdAt: Date(timeIntervalSince1970: created), region: region,
            versioning: versioning.flatMap(VersioningStatus.init(rawValue:)))
    }

    /// Throws `noSuchBucket` unless the bucket exists; inside a transaction, keeps it from being deleted until
    /// the transaction ends.
    func requireBucket(_ name: String, on connection: PostgresConnection) async throws {
        let rows = try await rows("SELECT 1 FROM buckets WHERE name = \(name) FOR KEY SHARE", on: connection)
        if rows.isEmpty { throw MetadataError.noSuchBucket(name) }
    }

    /// Inside a write transaction: records blobs as named at `date` (locking their `blobs` rows, in digest order so
    /// that writers and the sweep never deadlock), then checks that the blob store holds every one of them. Once
    /// this returns, retention cannot remove them before the transaction ends, and they exist.
    func nameBlobs(_ segments: [BlobSegment], at date: Date, on connection: PostgresConnection) async throws {
        guard !segments.isEmpty else { return }
        var sizes: [BlobDigest: Int64] = [:]
        for segment in segments { sizes[segment.digest] = segment.size }
        let digests = sizes.keys.sorted()
        try await registerBlobs(digests.map { BlobSegment(digest: $0, size: sizes[$0]!) }, at: date, on: connection)
        let stored = try await blobs.storedSizes(digests)
        for (digest, size) in zip(digests, stored) where size == nil {
            throw MetadataError.blobMissing(digest)
        }
    }

    /// Upserts `blobs` rows, raising `created_at` to `date` (the grace period counts from the last naming).
    func registerBlobs(_ segments: [BlobSegment], at date: Date, on connection: PostgresConnection) async throws {
        let sorted = segments.sorted { $0.digest < $1.digest }
        let digests = sorted.map(\.digest.hex)
        let sizes = sorted.map(\.size)
        try await rows(
            """
            INSERT INTO blobs (digest, size, created_at)
            SELECT digest, size, \(date.timeIntervalSince1970)
            FROM unnest(\(digests)::text[], \(sizes)::int8[]) AS b(digest, size)
            ORDER BY digest
            ON CONFLICT (digest) DO UPDATE SET created_at = GREATEST(blobs.created_at, excluded.created_at)
            """, on: connection)
    }

    static let objectColumns = """
        o.key, o.size, o.etag, o.headers, o.checksum_algorithm, o.checksum_value, o.part_count, o.created_at,
        ARRAY(SELECT s.digest FROM object_segments s WHERE s.bucket = o.bucket AND s.key = o.key ORDER BY s.seq),
        ARRAY(SELECT s.size FROM object_segments s WHERE s.bucket = o.bucket AND s.key = o.key ORDER BY s.seq),
        o.version_id
        """

    static func objectInfo(bucket: String, _ row: PostgresRow) throws -> ObjectInfo {
        let (key, size, etag, headers, algorithm, value, partCount, created, digests, sizes, versionID) =
            try row.decode(
                (Data, Int64, String, String, String?, String?, Int?, Double, [String], [Int64], String).self)
        return ObjectInfo(
            bucket: bucket, key: String(decoding: key, as: UTF8.self), size: size, etag: etag,
            headers: try SQLiteMetadataStore.headers(headers), checksum: checksum(algorithm, value),
            partCount: partCount, createdAt: Date(timeIntervalSince1970: created),
            segments: zip(digests, sizes).map { BlobSegment(digest: BlobDigest(hex: $0)!, size: $1) },
            versionID: versionID)
    }

    func fetchObject(bucket: String, key: String, on connection: PostgresConnection) async throws -> ObjectInfo? {
        let rows = try await rows(
            """
            SELECT \(unescaped: Self.objectColumns) FROM objects o
            WHERE o.bucket = \(bucket) AND o.key = \(Self.keyData(key))
            """, on: connection)
        return try rows.first.map { try Self.objectInfo(bucket: bucket, $0) }
    }

    /// Inside a write transaction: makes every writer of one key, on any node, take turns until the transaction
    /// ends (a transaction-scoped advisory lock on the bucket and key), so that a key's versions are reordered by
    /// one writer at a time.
    func lockKey(bucket: String, key: Data, on connection: PostgresConnection) async throws {
        try await rows(
            "SELECT pg_advisory_xact_lock(hashtextextended(\(bucket) || '/' || encode(\(key), 'hex'), 0))",
            on: connection)
    }

    /// Inside a write transaction on an existing bucket: checks `condition` and writes the object as its key's
    /// current version (the one it replaces kept as a noncurrent version when their version ids differ).
    func insert(_ object: ObjectInfo, condition: WriteCondition, on connection: PostgresConnection) async throws {
        try await nameBlobs(object.segments, at: object.createdAt, on: connection)
        let key = Self.keyData(object.key)
        try await lockKey(bucket: object.bucket, key: key, on: connection)
        switch condition {
        case .none:
            break
        case .keyAbsent:
            let exists = try await rows(
                "SELECT 1 FROM objects WHERE bucket = \(object.bucket) AND key = \(key)", on: connection)
            if !exists.isEmpty { throw MetadataError.preconditionFailed }
        case .etagMatches(let etag):
            let rows = try await rows(
                "SELECT etag FROM objects WHERE bucket = \(object.bucket) AND key = \(key)", on: connection)
            guard let current = try rows.first?.decode(String.self) else {
                throw MetadataError.noSuchKey(bucket: object.bucket, key: object.key)
            }
            if etag != "*" && current != etag { throw MetadataError.preconditionFailed }
        }
        try await makeRoom(for: object.versionID, bucket: object.bucket, key: key, at: object.createdAt, on: connection)
        let time = object.createdAt.timeIntervalSince1970
        try await rows(
            """
            INSERT INTO objects (bucket, key, size, etag, headers, checksum_algorithm, checksum_value, part_count,
                                 created_at, accessed_at, version_id)
            VALUES (\(object.bucket), \(key), \(object.size), \(object.etag),
                    \(try SQLiteMetadataStore.json(object.headers)), \(object.checksum?.algorithm.rawValue),
                    \(object.checksum?.value), \(object.partCount), \(time), \(time), \(object.versionID))
            """, on: connection)
        let digests = object.segments.map(\.digest.hex)
        let sizes = object.segments.map(\.size)
        try await rows(
            """
            INSERT INTO object_segments (bucket, key, seq, digest, size)
            SELECT \(object.bucket), \(key), s.ordinality - 1, s.digest, s.size
            FROM unnest(\(digests)::text[], \(sizes)::int8[]) WITH ORDINALITY AS s(digest, size, ordinality)
            """, on: connection)
    }

    /// The SQL condition, over a row's `headers` JSON column named by `column`, that holds when object lock forbids
    /// deleting the row at `date`: a legal hold, or a retention date still ahead (dates are encoded as seconds
    /// since 2001 in the headers' JSON). The embedded store's ``ObjectHeaders/lockedCondition(column:)``.
    static func lockedCondition(_ column: String, at date: Date) -> String {
        let until = ObjectHeaders.lockArgument(at: date)
        return """
            (COALESCE((\(column)::jsonb ->> 'legalHold')::boolean, false)
             OR COALESCE((\(column)::jsonb #>> '{retention,retainUntil}')::float8, -1e300) > \(until))
            """
    }

    static func checksum(_ algorithm: String?, _ value: String?) -> StoredChecksum? {
        guard let algorithm, let value, let parsed = ChecksumAlgorithm(rawValue: algorithm) else { return nil }
        return StoredChecksum(algorithm: parsed, value: value)
    }

    static let uploadColumns = "upload_id, bucket, key, headers, checksum_algorithm, created_at"

    static func uploadInfo(_ row: PostgresRow) throws -> UploadInfo {
        let (id, bucket, key, headers, algorithm, created) = try row.decode(
            (String, String, Data, String, String?, Double).self)
        return UploadInfo(
            uploadID: id, bucket: bucket, key: String(decoding: key, as: UTF8.self),
            headers: try SQLiteMetadataStore.headers(headers),
            checksumAlgorithm: algorithm.flatMap { ChecksumAlgorithm(rawValue: $0) },
            createdAt: Date(timeIntervalSince1970: created))
    }

    /// The upload, optionally locking its row (`FOR UPDATE`, `FOR KEY SHARE`) until the transaction ends.
    func fetchUpload(_ uploadID: String, lock: String = "", on connection: PostgresConnection) async throws
        -> UploadInfo?
    {
        let rows = try await rows(
            "SELECT \(unescaped: Self.uploadColumns) FROM uploads WHERE upload_id = \(uploadID) \(unescaped: lock)",
            on: connection)
        return try rows.first.map { try Self.uploadInfo($0) }
    }

    func fetchParts(uploadID: String, after marker: Int, limit: Int, on connection: PostgresConnection) async throws
        -> [PartInfo]
    {
        try await rows(
            """
            SELECT part_number, digest, size, etag, checksum_algorithm, checksum_value, created_at FROM upload_parts
            WHERE upload_id = \(uploadID) AND part_number > \(marker) ORDER BY part_number LIMIT \(limit)
            """, on: connection
        ).map { row in
            let (number, digest, size, etag, algorithm, value, created) = try row.decode(
                (Int, String, Int64, String, String?, String?, Double).self)
            return PartInfo(
                partNumber: number, segment: BlobSegment(digest: BlobDigest(hex: digest)!, size: size), etag: etag,
                checksum: Self.checksum(algorithm, value), createdAt: Date(timeIntervalSince1970: created))
        }
    }
}
