import Foundation
import GRDB

/// Buckets, objects, multipart uploads and the blob registry, in SQLite (WAL) through a GRDB `DatabasePool`.
///
/// Object keys are stored as BLOBs of their UTF-8 bytes, so SQLite orders them in UTF-8 binary order, as S3
/// lists them, and a prefix is an exact byte range. Every method is `async` and runs on GRDB's own queues.
public final class SQLiteMetadataStore: MetadataStore {
    let pool: DatabasePool
    let region: String
    /// The data directory's blobs, checked inside write transactions before metadata names them.
    let blobs: FileBlobStore
    /// Commits concurrent object and entry writes together.
    let commits: CommitQueue
    /// A second connection that copies the write-ahead log back into the database (see ``checkpoint()``); nil when
    /// the writer does that itself at commit, as SQLite does by default.
    let checkpointer: DatabaseQueue?

    /// WAL pages past which the writer checkpoints at commit when ``checkpoint()`` runs in the background: a
    /// backstop that bounds the log (about 40 MiB) should the background checkpoints fall behind.
    static let backstopCheckpointPages = 10_000
    /// Objects and buckets read or written recently, so that hot reads skip SQLite (see ``CoherentCache``). A PUT
    /// puts the row it wrote here as its transaction commits; every other write of the objects or buckets tables
    /// invalidates here after it commits.
    let cachedObjects = CoherentCache<ObjectCacheKey, ObjectInfo>(capacity: 50_000)
    let cachedBuckets = CoherentCache<ExactText, BucketInfo>(capacity: 10_000)

    /// Opens (creating and migrating when needed) `metadata.sqlite` in a data directory, and lets `blobs` read the
    /// small blobs its `small_blobs` table holds (see ``SmallBlobTable``).
    ///
    /// - Parameter blobs: the blob store whose journal this metadata commits (the server's); by default one with
    ///   no journal.
    /// - Parameter backgroundCheckpoints: whether the owner calls ``checkpoint()`` every fraction of a second (the
    ///   server does): commits then no longer pause to copy the log into the database.
    public init(
        dataDirectory: String, region: String = "us-east-1", blobs: FileBlobStore? = nil,
        backgroundCheckpoints: Bool = false
    ) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        pool = try DatabasePool(path: dataDirectory + "/metadata.sqlite", configuration: configuration)
        // Every commit must reach the disk before the write it carries is answered (a small blob's bytes commit
        // with it). In WAL mode that takes `synchronous = FULL`: NORMAL syncs the log only at checkpoints, so a
        // power failure could lose commits already answered. GRDB's pool sets NORMAL on its writer when it turns
        // WAL on, after `prepareDatabase` has run, so FULL is set here, on the writer, once it is open.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Each write of a group commit runs in a savepoint, whose journal (the pages it changed, to roll back
            // to) SQLite spills to a temporary file past 64 KiB: under load that file took as many writes as the
            // log itself, and was created and deleted for every transaction. In memory it costs a copy per page.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        if backgroundCheckpoints {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.backstopCheckpointPages)")
            }
            let queue = try DatabaseQueue(path: dataDirectory + "/metadata.sqlite", configuration: configuration)
            try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            checkpointer = queue
        } else {
            checkpointer = nil
        }
        self.region = region
        self.blobs = try blobs ?? FileBlobStore(dataDirectory: dataDirectory)
        self.commits = CommitQueue(writer: pool)
        // Only a directory that the v6 migration has not reached yet still has the table it replaces.
        let upgrading = try pool.read { db in try db.tableExists("blob_journal") }
        try Self.migrator.migrate(pool)
        if upgrading { try removeFilesOfSmallBlobs() }
        self.blobs.smallBlobs.attach(dataDirectory + "/metadata.sqlite")
    }

    /// Copies what the write-ahead log holds back into the database file, from a connection of its own, without
    /// stopping writers (a passive checkpoint); returns the log's frames and how many of them are now copied.
    ///
    /// By default the writer does this at commit once the log passes 1,000 pages, and the commit that crosses
    /// the line waits for the copy and the database file's fsync. A server with `backgroundCheckpoints` calls this
    /// every fraction of a second instead, so commits carry only their own fsync. While another connection is
    /// checkpointing, this copies nothing and returns `(0, 0)` rather than failing.
    @discardableResult
    public func checkpoint() async throws -> (walFrames: Int, copied: Int) {
        guard let checkpointer else { return (0, 0) }
        do {
            let result = try await checkpointer.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            return (result.walFrameCount, result.checkpointedFrameCount)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
        {
            // A passive checkpoint never waits: it answers "database is locked" when another connection holds the
            // checkpoint lock — the writer's backstop checkpoint at commit, or `cairn gc` in another process. That
            // one copies the log itself, so there is nothing to do until the next call.
            return (0, 0)
        }
    }

    // MARK: Buckets

    /// Creates a bucket; throws `bucketAlreadyExists` when it exists.
    public func createBucket(_ name: String, at date: Date) async throws {
        defer { cachedBuckets.invalidate(ExactText(name)) }
        try await pool.write { db in
            if try Self.bucketExists(db, name) { throw MetadataError.bucketAlreadyExists(name) }
            try db.execute(
                sql: "INSERT INTO buckets (name, created_at) VALUES (?, ?)",
                arguments: [name, date.timeIntervalSince1970]
            )
        }
    }

    /// The bucket, or nil.
    public func bucket(_ name: String) async throws -> BucketInfo? {
        if let cached = cachedBuckets.value(for: ExactText(name)) { return cached }
        let generation = cachedBuckets.generation
        let bucket = try await pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT name, created_at, versioning FROM buckets WHERE name = ?"),
                arguments: [name]
            )
            .map { self.bucketInfo($0) }
        }
        if let bucket { cachedBuckets.insert(bucket, for: ExactText(name), readAt: generation) }
        return bucket
    }

    /// All buckets, by name.
    public func buckets() async throws -> [BucketInfo] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT name, created_at, versioning FROM buckets ORDER BY name").map {
                self.bucketInfo($0)
            }
        }
    }

    /// Deletes an empty bucket; throws `bucketNotEmpty` when it holds objects or uploads in progress.
    public func deleteBucket(_ name: String) async throws {
        defer { cachedBuckets.invalidate(ExactText(name)) }
        try await pool.write { db in
            guard try Self.bucketExists(db, name) else { throw MetadataError.noSuchBucket(name) }
            let busy =
                try Bool.fetchOne(
                    db,
                    sql: """
                        SELECT EXISTS (SELECT 1 FROM objects WHERE bucket = ?1)
                            OR EXISTS (SELECT 1 FROM object_versions WHERE bucket = ?1)
                            OR EXISTS (SELECT 1 FROM uploads WHERE bucket = ?1)
                        """,
                    arguments: [name]
                ) ?? false
            if busy { throw MetadataError.bucketNotEmpty(name) }
            try db.execute(sql: "DELETE FROM buckets WHERE name = ?", arguments: [name])
        }
    }

    // MARK: Objects

    /// Stores an object's metadata, replacing the key's current version. Its blobs must already be committed.
    ///
    /// Once the write commits, the object is what the cache holds for its key: the next read of it (an artifact
    /// uploaded, then fetched by the next job) is answered from memory.
    public func putObject(_ object: ObjectInfo, condition: WriteCondition) async throws {
        let cache = cachedObjects
        let cacheKey = ObjectCacheKey(bucket: object.bucket, key: object.key)
        // As a read from SQLite returns it: the time goes through a Double of seconds since 1970.
        let stored = {
            var stored = object
            stored.createdAt = Date(timeIntervalSince1970: object.createdAt.timeIntervalSince1970)
            return stored
        }()
        try await commits.submit(
            { db in
                guard try Self.bucketExists(db, object.bucket) else {
                    throw MetadataError.noSuchBucket(object.bucket)
                }
                try Self.check(condition, db: db, bucket: object.bucket, key: object.key)
                try Self.insert(object, db: db, blobs: self.blobs)
            },
            // In commit order, on the writer: an earlier write to the key never replaces a later one in the cache.
            afterCommit: {
                if stored.segments.count <= Self.largestCachedSegmentCount {
                    cache.replace(cacheKey, with: stored)
                } else {
                    cache.invalidate(cacheKey)
                }
            })
    }

    /// The object, or nil.
    public func object(bucket: String, key: String) async throws -> ObjectInfo? {
        let cacheKey = ObjectCacheKey(bucket: bucket, key: key)
        if let cached = cachedObjects.value(for: cacheKey) { return cached }
        let generation = cachedObjects.generation
        let object = try await pool.read { db in try Self.fetchObject(db, bucket: bucket, key: key) }
        if let object, object.segments.count <= Self.largestCachedSegmentCount {
            cachedObjects.insert(object, for: cacheKey, readAt: generation)
        }
        return object
    }

    /// Objects of more parts stay out of the cache: their segment lists are big, and they are not the hot small
    /// reads.
    static let largestCachedSegmentCount = 16

    /// The object if its row is in memory (read or PUT recently, not written otherwise since), without touching
    /// SQLite; nil says only that it is not cached.
    public func cachedObject(bucket: String, key: String) -> ObjectInfo? {
        cachedObjects.value(for: ObjectCacheKey(bucket: bucket, key: key))
    }

    /// Deletes a key's current object; returns whether it existed. Its blobs stay until retention sweeps them. An
    /// object that object lock protects is refused with ``MetadataError/objectLocked(bucket:key:versionID:)``.
    @discardableResult
    public func deleteObject(bucket: String, key: String) async throws -> Bool {
        defer { cachedObjects.invalidate(ObjectCacheKey(bucket: bucket, key: key)) }
        return try await pool.write { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            if let current = try Self.fetchObject(db, bucket: bucket, key: key), current.headers.isLocked(at: Date()) {
                throw MetadataError.objectLocked(bucket: bucket, key: key, versionID: current.versionID)
            }
            try db.execute(
                sql: "DELETE FROM objects WHERE bucket = ? AND key = ?", arguments: [bucket, Self.keyData(key)])
            let deleted = db.changesCount > 0
            // In a bucket that had versioning, the next newest version becomes current.
            if deleted { try Self.settleLatest(db, bucket: bucket, keyData: Self.keyData(key)) }
            return deleted
        }
    }

    /// Records that objects were read, in one transaction (access times are batched by the caller).
    public func recordAccess(_ accesses: [(bucket: String, key: String, date: Date)]) async throws {
        guard !accesses.isEmpty else { return }
        try await pool.write { db in
            let statement = try db.cachedStatement(
                sql: "UPDATE objects SET accessed_at = MAX(accessed_at, ?) WHERE bucket = ? AND key = ?"
            )
            for access in accesses {
                try statement.execute(arguments: [
                    access.date.timeIntervalSince1970, access.bucket, Self.keyData(access.key),
                ])
            }
        }
    }

    /// Lists a bucket's keys under `prefix` from `lowerBound` (inclusive, raw key bytes), grouping keys that
    /// contain `delimiter` after the prefix into common prefixes, up to `maxKeys` entries.
    public func listObjects(
        bucket: String, prefix: String, delimiter: String?, from lowerBound: [UInt8]?, maxKeys: Int
    ) async throws -> ObjectListing {
        try await pool.read { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            var scan = ListingScan<Void>(prefix: prefix, delimiter: delimiter, from: lowerBound, maxKeys: maxKeys)
            let range = "bucket = ? AND key >= ? \(scan.upper == nil ? "" : "AND key < ?")"
            while !scan.isComplete {
                let keys = try Data.fetchAll(
                    db, sql: "SELECT key FROM objects WHERE \(range) ORDER BY key LIMIT ?",
                    arguments: Self.rangeArguments(bucket, scan.position.lower, scan.upper) + [
                        ListingScan<Void>.batchSize
                    ]
                )
                scan.take(keys.map { ([UInt8]($0), ()) }) { key, _ in .init(lower: key + [0]) }
            }
            let more =
                try scan.mayHaveMore
                && Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM objects WHERE \(range))",
                    arguments: Self.rangeArguments(bucket, scan.position.lower, scan.upper)) == true
            var entries: [ObjectListing.Entry] = []
            for entry in scan.entries {
                switch entry {
                case .commonPrefix(let name): entries.append(.commonPrefix(name))
                case .item(let key, _):
                    if let object = try Self.fetchObject(db, bucket: bucket, key: key) {
                        entries.append(.object(object))
                    }
                }
            }
            return ObjectListing(
                entries: entries, isTruncated: more, resumeAt: more ? scan.position.lower : nil,
                lastName: scan.last?.name)
        }
    }

    // MARK: Multipart uploads

    /// Starts a multipart upload.
    public func createUpload(_ upload: UploadInfo) async throws {
        try await pool.write { db in
            guard try Self.bucketExists(db, upload.bucket) else { throw MetadataError.noSuchBucket(upload.bucket) }
            try db.execute(
                sql: """
                    INSERT INTO uploads (upload_id, bucket, key, headers, checksum_algorithm, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    upload.uploadID, upload.bucket, Self.keyData(upload.key), try Self.json(upload.headers),
                    upload.checksumAlgorithm?.rawValue, upload.createdAt.timeIntervalSince1970,
                ]
            )
        }
    }

    /// The upload, or nil.
    public func upload(_ uploadID: String) async throws -> UploadInfo? {
        try await pool.read { db in try Self.fetchUpload(db, uploadID) }
    }

    /// Records a part (replacing an earlier upload of the same part number). Its blob must already be committed.
    public func putPart(uploadID: String, part: PartInfo) async throws {
        try await pool.write { db in
            guard try Self.fetchUpload(db, uploadID) != nil else { throw MetadataError.noSuchUpload(uploadID) }
            try Self.requireBlobs([part.segment.digest], in: self.blobs, db: db)
            try Self.registerBlob(part.segment, db: db, at: part.createdAt, blobs: self.blobs)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO upload_parts
                        (upload_id, part_number, digest, size, etag, checksum_algorithm, checksum_value, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    uploadID, part.partNumber, part.segment.digest.hex, part.segment.size, part.etag,
                    part.checksum?.algorithm.rawValue, part.checksum?.value, part.createdAt.timeIntervalSince1970,
                ]
            )
        }
    }

    /// The parts of an upload with numbers above `marker`, in order, at most `limit`.
    public func parts(uploadID: String, after marker: Int, limit: Int) async throws -> [PartInfo] {
        try await pool.read { db in
            guard try Self.fetchUpload(db, uploadID) != nil else { throw MetadataError.noSuchUpload(uploadID) }
            return try Self.fetchParts(db, uploadID: uploadID, after: marker, limit: limit)
        }
    }

    /// Uploads in progress in a bucket, ordered by key then creation, after the given markers.
    public func uploads(
        bucket: String, prefix: String, keyMarker: String?, uploadIDMarker: String?, limit: Int
    ) async throws -> [UploadInfo] {
        try await pool.read { db in
            guard try Self.bucketExists(db, bucket) else { throw MetadataError.noSuchBucket(bucket) }
            let prefixBytes = Array(prefix.utf8)
            let upper = ObjectListing.successor(ofPrefix: prefixBytes)
            var sql = "SELECT upload_id FROM uploads WHERE bucket = ? AND key >= ?"
            var arguments: [any DatabaseValueConvertible] = [bucket, Data(prefixBytes)]
            if let upper {
                sql += " AND key < ?"
                arguments.append(Data(upper))
            }
            if let keyMarker {
                if let uploadIDMarker {
                    sql += " AND (key > ? OR (key = ? AND upload_id > ?))"
                    arguments += [Self.keyData(keyMarker), Self.keyData(keyMarker), uploadIDMarker]
                } else {
                    sql += " AND key > ?"
                    arguments.append(Self.keyData(keyMarker))
                }
            }
            sql += " ORDER BY key, created_at, upload_id LIMIT ?"
            arguments.append(limit)
            let ids = try String.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
            return try ids.compactMap { try Self.fetchUpload(db, $0) }
        }
    }

    /// Deletes an upload and its parts; their blobs stay until retention sweeps them.
    public func abortUpload(_ uploadID: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM uploads WHERE upload_id = ?", arguments: [uploadID])
            if db.changesCount == 0 { throw MetadataError.noSuchUpload(uploadID) }
        }
    }

    /// How long a completed upload is remembered for a retried Complete.
    static let completedUploadMemory: TimeInterval = 24 * 60 * 60

    /// The object a completed upload made, while it is still the object at its key; nil otherwise.
    private static func completedObject(_ db: Database, uploadID: String) throws -> ObjectInfo? {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT bucket, key, etag FROM completed_uploads WHERE upload_id = ?", arguments: [uploadID])
        else { return nil }
        let key = String(decoding: row["key"] as Data, as: UTF8.self)
        guard let object = try fetchObject(db, bucket: row["bucket"], key: key), object.etag == row["etag"] else {
            return nil
        }
        return object
    }

    /// Turns an upload into an object from the listed parts, in one transaction, without copying bytes.
    ///
    /// `requested` pairs part numbers with the ETags the client saw (without quotes). Checks S3's rules:
    /// ascending order, every part present with that ETag, every part but the last at least `minimumPartSize`.
    public func completeUpload(
        _ uploadID: String,
        requested: [(partNumber: Int, etag: String)],
        minimumPartSize: Int64,
        condition: WriteCondition,
        at date: Date,
        makeObject: @Sendable (UploadInfo, [PartInfo]) -> ObjectInfo
    ) async throws -> ObjectInfo {
        let object = try await pool.write { db in
            guard let upload = try Self.fetchUpload(db, uploadID) else {
                if let object = try Self.completedObject(db, uploadID: uploadID) { return object }
                throw MetadataError.noSuchUpload(uploadID)
            }
            let chosen = try PartInfo.chosen(
                requested, from: try Self.fetchParts(db, uploadID: uploadID, after: 0, limit: 10_000),
                minimumPartSize: minimumPartSize)
            guard try Self.bucketExists(db, upload.bucket) else { throw MetadataError.noSuchBucket(upload.bucket) }
            try Self.check(condition, db: db, bucket: upload.bucket, key: upload.key)
            let object = makeObject(upload, chosen)
            try Self.insert(object, db: db, blobs: self.blobs)
            try db.execute(sql: "DELETE FROM uploads WHERE upload_id = ?", arguments: [uploadID])
            try db.execute(
                sql: "DELETE FROM completed_uploads WHERE completed_at < ?",
                arguments: [date.addingTimeInterval(-Self.completedUploadMemory).timeIntervalSince1970])
            try db.execute(
                sql:
                    "INSERT INTO completed_uploads (upload_id, bucket, key, etag, completed_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [uploadID, object.bucket, Self.keyData(object.key), object.etag, date.timeIntervalSince1970])
            return object
        }
        cachedObjects.invalidate(ObjectCacheKey(bucket: object.bucket, key: object.key))
        return object
    }
}
