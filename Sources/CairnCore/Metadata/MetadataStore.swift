import Foundation

/// What the server, the cache protocols, the runner's local store and retention need of a metadata store: buckets,
/// objects, multipart uploads, action entries, lifecycle rules, tokens and the blob references that keep blobs
/// alive.
///
/// ``SQLiteMetadataStore`` is the embedded implementation (one SQLite database in the data directory). Every
/// implementation keeps the store's invariant: what can be read names only blobs that exist, because blobs are
/// registered (``registerBlobs(_:at:)``) before anything names them and nothing is deleted here that a reader may
/// still need until retention's grace period has passed.
public protocol MetadataStore: AnyObject, Sendable {
    // MARK: Buckets

    /// Creates a bucket; throws ``MetadataError`` when it exists.
    func createBucket(_ name: String, at date: Date) async throws
    /// The bucket, or nil when there is none of that name.
    func bucket(_ name: String) async throws -> BucketInfo?
    /// Every bucket, by name.
    func buckets() async throws -> [BucketInfo]
    /// Deletes an empty bucket; throws ``MetadataError`` when it is missing or not empty.
    func deleteBucket(_ name: String) async throws

    // MARK: Objects

    /// Writes an object's row (replacing one of the same key) when `condition` holds.
    func putObject(_ object: ObjectInfo, condition: WriteCondition) async throws
    /// The object, or nil when there is none.
    func object(bucket: String, key: String) async throws -> ObjectInfo?
    /// The object when this process has it in memory and knows it to be current; nil says nothing. Never blocks:
    /// the server's fast read path calls it on an event loop.
    func cachedObject(bucket: String, key: String) -> ObjectInfo?
    /// Deletes an object; false when there was none.
    @discardableResult
    func deleteObject(bucket: String, key: String) async throws -> Bool
    /// Records the last-access times of objects (batched by ``AccessLog``).
    func recordAccess(_ accesses: [(bucket: String, key: String, date: Date)]) async throws
    /// One page of a bucket's keys under `prefix`, grouped by `delimiter`, after `lowerBound`.
    func listObjects(
        bucket: String, prefix: String, delimiter: String?, from lowerBound: [UInt8]?, maxKeys: Int
    ) async throws -> ObjectListing

    // MARK: Versions

    // A key's current version is what ``object(bucket:key:)`` reads and ``listObjects`` lists; ``putObject`` keeps
    // the current version as a noncurrent one when the new object's ``ObjectInfo/versionID`` differs from it, and
    // replaces it when the ids are equal. A `null` version replaces the key's `null` version wherever it is.

    /// Sets a bucket's versioning state; ``BucketInfo/versioning`` reads it.
    func setBucketVersioning(bucket: String, status: VersioningStatus) async throws
    /// A version of a key, object or delete marker; the latest when `versionID` is nil; nil when there is none.
    func objectVersion(bucket: String, key: String, versionID: String?) async throws -> ObjectVersion?
    /// Hides a key behind a new delete marker `versionID`, which becomes its latest version (a `null` marker
    /// replaces the `null` version).
    func putDeleteMarker(bucket: String, key: String, versionID: String, at date: Date) async throws -> ObjectVersion
    /// Deletes one version for good (the next newest becomes the latest); nil when there is no such version. A
    /// version object lock protects at `date` throws ``MetadataError/objectLocked(bucket:key:versionID:)``, unless
    /// its retention is GOVERNANCE and `bypassGovernance` is set; a legal hold is never bypassed.
    func deleteObjectVersion(
        bucket: String, key: String, versionID: String, bypassGovernance: Bool, at date: Date
    ) async throws -> ObjectVersion?
    /// Rewrites one object version's headers in place (tags, lock retention, legal hold) with `update`, in one
    /// transaction; the latest when `versionID` is nil. Returns the version as rewritten.
    func updateObjectHeaders(
        bucket: String, key: String, versionID: String?, _ update: @Sendable (inout ObjectHeaders) throws -> Void
    ) async throws -> ObjectInfo
    /// One page of a bucket's versions and delete markers (by key, each key's newest first) under `prefix`,
    /// grouped by `delimiter`, after `keyMarker` and `versionIDMarker` as S3's ListObjectVersions pages.
    func listObjectVersions(
        bucket: String, prefix: String, delimiter: String?, keyMarker: String?, versionIDMarker: String?, maxKeys: Int
    ) async throws -> VersionListing

    // MARK: Multipart uploads

    /// Records a new multipart upload.
    func createUpload(_ upload: UploadInfo) async throws
    /// The upload, or nil when it is unknown (never created, completed or aborted).
    func upload(_ uploadID: String) async throws -> UploadInfo?
    /// Records an uploaded part, replacing an earlier upload of the same part number.
    func putPart(uploadID: String, part: PartInfo) async throws
    /// The upload's parts after part number `marker`, at most `limit`.
    func parts(uploadID: String, after marker: Int, limit: Int) async throws -> [PartInfo]
    /// A page of a bucket's uploads in progress.
    func uploads(
        bucket: String, prefix: String, keyMarker: String?, uploadIDMarker: String?, limit: Int
    ) async throws -> [UploadInfo]
    /// Forgets an upload and its parts.
    func abortUpload(_ uploadID: String) async throws
    /// Turns an upload into the object `makeObject` describes, in one transaction, when `condition` holds.
    func completeUpload(
        _ uploadID: String, requested: [(partNumber: Int, etag: String)], minimumPartSize: Int64,
        condition: WriteCondition, at date: Date, makeObject: @Sendable (UploadInfo, [PartInfo]) -> ObjectInfo
    ) async throws -> ObjectInfo

    // MARK: Action entries

    /// Writes an action entry (replacing one of the same key).
    func putEntry(_ entry: ActionEntry) async throws
    /// The entry, or nil when there is none.
    func entry(namespace: String, key: String) async throws -> ActionEntry?
    /// Deletes an entry; false when there was none.
    @discardableResult
    func deleteEntry(namespace: String, key: String) async throws -> Bool
    /// Records the last-access times of entries (batched by ``AccessLog``).
    func recordEntryAccess(_ accesses: [(namespace: String, key: String, date: Date)]) async throws
    /// Records blobs that were just stored, so that retention knows their sizes and ages before anything names
    /// them.
    func registerBlobs(_ segments: [BlobSegment], at date: Date) async throws

    // MARK: Lifecycle rules

    /// A bucket's lifecycle rules; nil when it has none.
    func lifecycle(bucket: String) async throws -> [LifecycleRule]?
    /// Replaces a bucket's lifecycle rules.
    func setLifecycle(bucket: String, rules: [LifecycleRule]) async throws
    /// Removes a bucket's lifecycle rules.
    func deleteLifecycle(bucket: String) async throws

    // MARK: Bucket configurations

    /// A bucket's configuration document of one kind (e.g. `cors`); nil when none is set.
    func bucketConfiguration(bucket: String, kind: String) async throws -> Data?
    /// Replaces a bucket's configuration document of one kind; nil removes it.
    func setBucketConfiguration(bucket: String, kind: String, document: Data?) async throws

    // MARK: Tokens

    /// Creates a token with these scopes (checked by ``CacheToken/validate(namespace:scopes:)``); the secret is
    /// returned once and only its hash is stored.
    func createToken(
        namespace: String, readOnly: Bool, scopes: Set<TokenScope>, at date: Date
    ) async throws -> (CacheToken, secret: String)
    /// The token whose secret this is, or nil.
    func token(secret: String) async throws -> CacheToken?
    /// Every token.
    func tokens() async throws -> [CacheToken]
    /// Revokes a token; false when there was none of that id.
    @discardableResult
    func revokeToken(id: String) async throws -> Bool

    // MARK: Usage

    /// Counts and sizes of objects, cache entries and blobs.
    func usage() async throws -> StorageUsage
    /// Every cache namespace's entries and bytes, logical and held by it alone, by name.
    func namespaceUsage() async throws -> [NamespaceUsage]

    // MARK: Observations

    /// Appends a small document (at most a few tens of KiB) to the journal of one `kind`, and deletes the documents
    /// of that kind older than its newest `keep`, in one transaction. The server keeps what its console shows
    /// across restarts here (hit-rate samples, reported builds); documents are opaque to the store.
    func appendObservation(kind: String, document: Data, at date: Date, keep: Int) async throws
    /// The newest `limit` documents of `kind` recorded at or after `since`, oldest first.
    func observations(kind: String, since: Date, limit: Int) async throws -> [(date: Date, document: Data)]

    // MARK: Maintenance

    /// Writes what the store holds only in memory (small new blobs awaiting their row) to durable storage; returns
    /// how many blobs it wrote.
    @discardableResult
    func flushBlobJournal() async throws -> Int
    /// Applies a retention policy: the queries are the engine's own, the guarantees are ``RetentionJob``'s.
    func applyRetention(
        _ policy: RetentionPolicy, now: Date, dryRun: Bool, batchSize: Int
    ) async throws -> RetentionReport
}

extension MetadataStore {
    /// Creates a bucket now.
    public func createBucket(_ name: String) async throws {
        try await createBucket(name, at: Date())
    }

    /// Writes an object's row unconditionally.
    public func putObject(_ object: ObjectInfo) async throws {
        try await putObject(object, condition: .none)
    }

    /// The upload's parts, from the first.
    public func parts(uploadID: String) async throws -> [PartInfo] {
        try await parts(uploadID: uploadID, after: 0, limit: 10_000)
    }

    /// Records blobs stored now.
    public func registerBlobs(_ segments: [BlobSegment]) async throws {
        try await registerBlobs(segments, at: Date())
    }

    /// Creates a token now; by default with the ``TokenScope/cache`` scope alone.
    public func createToken(
        namespace: String, readOnly: Bool, scopes: Set<TokenScope> = TokenScope.defaults
    ) async throws -> (CacheToken, secret: String) {
        try await createToken(namespace: namespace, readOnly: readOnly, scopes: scopes, at: Date())
    }

    /// Completes an upload now, unconditionally.
    public func completeUpload(
        _ uploadID: String, requested: [(partNumber: Int, etag: String)], minimumPartSize: Int64,
        condition: WriteCondition = .none, makeObject: @Sendable (UploadInfo, [PartInfo]) -> ObjectInfo
    ) async throws -> ObjectInfo {
        try await completeUpload(
            uploadID, requested: requested, minimumPartSize: minimumPartSize, condition: condition, at: Date(),
            makeObject: makeObject)
    }
}
