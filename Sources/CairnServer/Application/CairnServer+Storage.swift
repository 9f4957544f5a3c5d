import CairnCore
import CairnObjectStore
import Logging
import NIOPosix
import ServiceLifecycle

extension CairnServer {
    /// The stores a node serves from, and the services that keep them: the embedded default (files and SQLite in
    /// the data directory), or storage shared by every node (PostgreSQL and an S3-compatible object store).
    struct Storage {
        let blobs: any BlobStore
        let metadata: any MetadataStore
        /// Services the stores need, first in the group so that they stop last.
        let services: [any Service]
    }

    static func openStorage(settings: ServerSettings, logger: Logger) async throws -> Storage {
        if let metadataURL = settings.metadataURL, let location = try settings.objectStoreLocation() {
            return try await openSharedStorage(
                settings: settings, metadataURL: metadataURL, location: location, logger: logger)
        }
        // Blob writes block on fsync; a pool wider than the core count lets concurrent uploads' fsyncs overlap (the
        // file system commits them together) instead of queueing behind two threads.
        let blobThreads = NIOThreadPool(numberOfThreads: 16)
        blobThreads.start()
        let blobs = try FileBlobStore(
            dataDirectory: settings.dataDirectory, threadPool: blobThreads, memoryCacheBytes: settings.memoryCacheBytes,
            journalBytes: settings.journalBytes)
        try removeTemporaryFiles(of: blobs, logger: logger)
        let metadata = try SQLiteMetadataStore(
            dataDirectory: settings.dataDirectory, region: settings.region, blobs: blobs, backgroundCheckpoints: true)
        let journalFlusher = FlushService(
            name: "small blobs held in memory", interval: .milliseconds(Int64(settings.journalFlushInterval * 1000)),
            logger: logger
        ) { try await metadata.flushBlobJournal() }
        let checkpointer = FlushService(
            name: "write-ahead log checkpoints", interval: .milliseconds(200), logger: logger
        ) { try await metadata.checkpoint() }
        return Storage(blobs: blobs, metadata: metadata, services: [journalFlusher, checkpointer])
    }

    /// PostgreSQL and an object store: the schema is migrated (once, whichever node starts first) before the node
    /// serves, and the object store's bucket created when missing. Small blobs go to PostgreSQL's `small_blobs`
    /// table (a pool of its own, see ``PostgresSmallBlobTable``). The data directory holds only uploads in flight
    /// and the node's blob cache, which starts empty.
    private static func openSharedStorage(
        settings: ServerSettings, metadataURL: String, location: ObjectStoreLocation, logger: Logger
    ) async throws -> Storage {
        let applied = try await PostgresMetadataStore.migrate(url: metadataURL, logger: logger)
        if !applied.isEmpty {
            logger.notice("migrated the PostgreSQL schema", metadata: ["migrations": "\(applied)"])
        }
        let smallBlobs =
            settings.smallBlobBytes > 0 ? try PostgresSmallBlobTable(url: metadataURL, logger: logger) : nil
        let cache =
            settings.blobCacheBytes > 0
            ? try BlobDiskCache(
                directory: settings.dataDirectory + "/blob-cache", capacity: Int64(settings.blobCacheBytes)) : nil
        let blobs = try S3BlobStore(
            location: location, stagingDirectory: settings.dataDirectory + "/staging", smallBlobs: smallBlobs,
            smallBlobLimit: Int64(settings.smallBlobBytes), cache: cache)
        let metadata = try PostgresMetadataStore(
            url: metadataURL, blobs: blobs, region: settings.region, logger: logger)
        try await blobs.createBucketIfNeeded()
        try removeTemporaryFiles(of: blobs, logger: logger)
        // The pools run from now on: the server reads its console history through the store before it serves.
        var pools = [PostgresPool(running: metadata.run)]
        if let smallBlobs { pools.append(PostgresPool(running: smallBlobs.run)) }
        return Storage(blobs: blobs, metadata: metadata, services: pools)
    }

    private static func removeTemporaryFiles(of blobs: any BlobStore, logger: Logger) throws {
        let removed = try blobs.removeTemporaryFiles()
        if removed > 0 {
            logger.notice("removed temp files of uploads that never finished", metadata: ["files.count": "\(removed)"])
        }
    }
}

/// A PostgreSQL connection pool (the metadata store's, the small-blob table's), running from the moment the storage is
/// opened — queries wait until their pool runs, and the server's start-up reads through the store before the
/// service group starts — until the server has stopped. As a service it is first in the group, so it stops last.
private struct PostgresPool: Service {
    let task: Task<Void, Never>

    init(running pool: @escaping @Sendable () async -> Void) {
        task = Task { await pool() }
    }

    func run() async throws {
        try? await gracefulShutdown()
        task.cancel()
        await task.value
    }
}
