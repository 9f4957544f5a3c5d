import Logging
import NIOCore
import PostgresNIO

/// The `small_blobs` table of a PostgreSQL metadata database (created by its migrations, see
/// ``PostgresMetadataStore/migrate()``): where nodes that keep blobs in an object store put the small ones.
///
/// It has a connection pool of its own, not the metadata store's: a metadata transaction that names blobs asks the
/// blob store whether it holds them while it keeps its own connection, and with one pool for both, as many
/// concurrent transactions as the pool has connections would each wait for one more, for ever.
///
/// Call ``run()`` in a long-running task (it runs the connection pool); queries wait until it has started.
public final class PostgresSmallBlobTable: SmallBlobDatabase {
    /// The pool, its failures thrown as ``StorageUnavailable`` as the metadata store's are.
    let client: PostgresConnectionPool
    let logger: Logger

    /// A table in the database `url` names (`postgres://user:password@host:port/database`).
    ///
    /// - Parameter maximumConnections: the pool's size on this node; with the metadata store's, what each node may
    ///   open of PostgreSQL's `max_connections`.
    public init(
        url: String, maximumConnections: Int = 8, logger: Logger = Logger(label: "cairn.blobs.postgres")
    ) throws {
        var configuration = try PostgresURL(url).clientConfiguration
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        self.client = PostgresConnectionPool(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger))
        self.logger = logger
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    public func insert(_ content: ByteBuffer, for digest: BlobDigest) async throws {
        _ = try await client.query(
            """
            INSERT INTO small_blobs (digest, content) VALUES (\(digest.hex), \(content))
            ON CONFLICT (digest) DO NOTHING
            """, logger: logger
        )
    }

    public func sizes(_ digests: [BlobDigest]) async throws -> [BlobDigest: Int64] {
        guard !digests.isEmpty else { return [:] }
        // octet_length reads a stored value's size from its header, without fetching or decompressing its bytes.
        let rows = try await client.query(
            """
            SELECT digest, octet_length(content)::int8 FROM small_blobs
            WHERE digest = ANY(\(digests.map(\.hex))::text[])
            """, logger: logger)
        var sizes: [BlobDigest: Int64] = [:]
        for row in rows {
            let (hex, size) = try row.decode((String, Int64).self)
            if let digest = BlobDigest(hex: hex) { sizes[digest] = size }
        }
        return sizes
    }

    public func contents(_ digests: [BlobDigest]) async throws -> [BlobDigest: ByteBuffer] {
        guard !digests.isEmpty else { return [:] }
        let rows = try await client.query(
            "SELECT digest, content FROM small_blobs WHERE digest = ANY(\(digests.map(\.hex))::text[])",
            logger: logger)
        var contents: [BlobDigest: ByteBuffer] = [:]
        for row in rows {
            let (hex, content) = try row.decode((String, ByteBuffer).self)
            if let digest = BlobDigest(hex: hex) { contents[digest] = content }
        }
        return contents
    }

    @discardableResult
    public func remove(_ digest: BlobDigest) async throws -> Bool {
        try await !client.query(
            "DELETE FROM small_blobs WHERE digest = \(digest.hex) RETURNING 1", logger: logger
        ).isEmpty
    }
}
