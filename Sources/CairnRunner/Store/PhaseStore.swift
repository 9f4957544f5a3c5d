import CairnCore

/// Where the runner keeps phase entries, their blobs and artifacts: the embedded local store or a Cairn server.
///
/// Writes follow the store's invariant: blobs first, then the entry that names them. An entry whose blobs are
/// gone reads as a miss.
public protocol PhaseStore: Sendable {
    /// A short description for messages (`local store at ~/.cache/cairn`, `http://host:9000`).
    var description: String { get }
    /// The digests among `digests` that the store does not hold (one round trip).
    func missing(_ digests: [BlobDigest]) async throws -> Set<BlobDigest>
    /// Stores a file's content as a blob; fails when the content no longer hashes to `digest`.
    func upload(file path: String, digest: BlobDigest) async throws
    /// Stores bytes as a blob.
    func upload(bytes: [UInt8]) async throws -> BlobSegment
    /// Writes a blob's content to a new file at `path`.
    func download(_ digest: BlobDigest, to path: String) async throws
    /// Writes many blobs' contents to new files (a digest may appear more than once).
    func download(_ files: [(digest: BlobDigest, path: String)]) async throws
    /// A small blob's content (manifests, logs).
    func read(_ digest: BlobDigest) async throws -> [UInt8]
    /// Stores an entry; its blobs must be stored already.
    func putEntry(_ entry: ActionEntry) async throws
    /// The entry, or nil on a miss (including when a blob it names is gone).
    func entry(namespace: String, key: String) async throws -> ActionEntry?
    /// Stores a file as an S3 object (creating the bucket when missing) with `x-amz-meta-*` user metadata;
    /// returns its `s3://` URI.
    func putObject(bucket: String, key: String, file: String, metadata: [String: String]) async throws -> String
    /// Checks that the store answers and accepts the credentials before a build relies on it; throws a
    /// ``RunnerError`` of kind `storeUnreachable` or `wrongCredentials`.
    func checkAccess() async throws

    /// Stores a small S3 object only when its key is absent (S3's `If-None-Match: *`), creating the bucket when
    /// missing; false when the key exists already, whoever wrote it. Two writers racing for one key: one gets true.
    func createObject(bucket: String, key: String, bytes: [UInt8]) async throws -> Bool

    /// Tells the store how a build went (its phases restored and run, the time saved), for its metrics; a store
    /// on this machine keeps no such count.
    func reportBuild(_ report: BuildOutcomeReport) async throws
}

extension PhaseStore {
    /// A store on this machine is always there.
    public func checkAccess() async throws {}

    /// Nothing to tell a store on this machine.
    public func reportBuild(_ report: BuildOutcomeReport) async throws {}

    /// One download at a time per file, a few files at once.
    public func download(_ files: [(digest: BlobDigest, path: String)]) async throws {
        try await forEachConcurrently(files, limit: 8) { file in
            try await download(file.digest, to: file.path)
            TransferProgress.current?.completedFile()
        }
    }

    /// Uploads the files whose digests the store lacks, a few at a time; returns how many blobs and bytes were sent.
    /// The transfer in ``TransferProgress/current`` counts the blobs and bytes as they go.
    func uploadMissing(_ files: [(path: String, digest: BlobDigest, size: Int64)]) async throws -> (
        count: Int, bytes: Int64
    ) {
        let missing = try await self.missing(Array(Set(files.map(\.digest))))
        var seen = Set<BlobDigest>()
        let uploads = files.filter { missing.contains($0.digest) && seen.insert($0.digest).inserted }
        let bytes = uploads.reduce(0) { $0 + $1.size }
        let progress = TransferProgress.current
        progress?.begin(files: uploads.count, bytes: bytes)
        defer { progress?.finish() }
        try await forEachConcurrently(uploads, limit: 8) { file in
            try await upload(file: file.path, digest: file.digest)
            progress?.completedFile()
        }
        return (uploads.count, bytes)
    }
}
