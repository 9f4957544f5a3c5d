import CairnCore
import CairnObjectStore
import CairnTestSupport
import Foundation
import Logging
import NIOCore
import Testing

/// ``S3BlobStore`` with its small blobs in PostgreSQL's `small_blobs` table: a real PostgreSQL and SeaweedFS's S3
/// gateway on loopback. What each backend holds is checked in the backend itself (`psql`, a bucket listing).
@Suite("Small blobs in PostgreSQL", .requires("weed", "curl", postgres: true))
struct SmallBlobTests {
    /// A new database (migrated) and bucket, and `nodes` stores on them, each with its own staging directory and,
    /// when `cacheBytes` is set, its own disk cache; the table's pool runs for the duration of `body`.
    static func withStores(
        nodes: Int = 1, limit: Int64 = 64 * 1024, cacheBytes: Int64? = nil, largestCached: Int64? = nil,
        _ body: ([S3BlobStore], ObjectStoreFixture) async throws -> Void
    ) async throws {
        let url = try await PostgresServer.shared.makeDatabase()
        try await PostgresMetadataStore.migrate(url: url, logger: Logger(label: "cairn.test"))
        let table = try PostgresSmallBlobTable(url: url)
        let directory = try TemporaryDirectory(prefix: "cairn-small-blobs")
        let location = ObjectStoreLocation(
            endpoint: try await SeaweedServer.shared.s3Endpoint(),
            bucket: "cairn-\(UUID().uuidString.lowercased().prefix(12))", prefix: "blobs",
            accessKeyID: SeaweedServer.accessKeyID, secretAccessKey: SeaweedServer.secretAccessKey)
        let stores = try (0..<nodes).map { node in
            try S3BlobStore(
                location: location, stagingDirectory: directory.path + "/node\(node)/staging", smallBlobs: table,
                smallBlobLimit: limit,
                cache: try cacheBytes.map {
                    try BlobDiskCache(
                        directory: directory.path + "/node\(node)/blob-cache", capacity: $0, largestBlob: largestCached)
                })
        }
        try await stores[0].createBucketIfNeeded()
        let fixture = ObjectStoreFixture(databaseURL: url, location: location)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await table.run() }
            defer { group.cancelAll() }
            try await body(stores, fixture)
        }
    }

    static func content(_ count: Int, seed: UInt8) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) }
    }

    @Test("A blob up to the limit is a row and no object; a larger one is an object and no row; both read back")
    func placement() async throws {
        try await Self.withStores { stores, fixture in
            let store = stores[0]
            let small = Self.content(1000, seed: 1)
            let boundary = Self.content(64 * 1024, seed: 2)
            let large = Self.content(64 * 1024 + 1, seed: 3)
            let smallDigest = try await store.store(small)
            let boundaryDigest = try await store.store(boundary)
            let largeDigest = try await store.store(large)

            #expect(try await fixture.rows() == [smallDigest.hex, boundaryDigest.hex].sorted())
            #expect(try await fixture.objectKeys() == ["blobs/\(largeDigest.hex.prefix(2))/\(largeDigest.hex)"])
            #expect(
                try await store.storedSizes([smallDigest, largeDigest, .empty, boundaryDigest])
                    == [1000, Int64(large.count), nil, Int64(boundary.count)])
            #expect(try await store.readableSizes([boundaryDigest]) == [Int64(boundary.count)])
            #expect(store.contains(smallDigest) && store.contains(largeDigest))

            for (digest, bytes) in [(smallDigest, small), (boundaryDigest, boundary), (largeDigest, large)] {
                let whole = try await store.read(digest, range: 0..<Int64(bytes.count))
                #expect(Array(whole.readableBytesView) == bytes)
                let middle = try await store.read(digest, range: 100..<200)
                #expect(Array(middle.readableBytesView) == Array(bytes[100..<200]))
                var streamed: [UInt8] = []
                try await store.readChunks(of: digest, range: 10..<Int64(bytes.count), chunkSize: 4096) {
                    #expect($0.readableBytes <= 4096)
                    streamed += Array($0.readableBytesView)
                }
                #expect(streamed == Array(bytes[10...]))
            }
            let segments = [
                BlobSegment(digest: smallDigest, size: 1000),
                BlobSegment(digest: largeDigest, size: Int64(large.count)),
                BlobSegment(digest: boundaryDigest, size: Int64(boundary.count)),
            ]
            let batch = try await store.read(segments) { Array("<\($0.size)>".utf8) }
            #expect(
                Array(batch.readableBytesView)
                    == Array("<1000>".utf8) + small + Array("<\(large.count)>".utf8) + large
                    + Array("<\(boundary.count)>".utf8) + boundary)
        }
    }

    @Test("An upload that announces a small size but sends more is stored as an object")
    func outgrowsTheLimit() async throws {
        try await Self.withStores(limit: 4096) { stores, fixture in
            let store = stores[0]
            let bytes = Self.content(10_000, seed: 4)
            let writer = try store.makeWriter(expectedSize: 100)
            for start in stride(from: 0, to: bytes.count, by: 3000) {
                try await writer.write(ByteBuffer(bytes: bytes[start..<min(start + 3000, bytes.count)]))
            }
            let summary = try await writer.finish()
            #expect(summary.size == 10_000)
            #expect(summary.md5 == MessageDigest.hash(.md5, bytes))
            let digest = try await writer.commit()
            #expect(try await fixture.rows() == [])
            #expect(try await fixture.objectKeys() == ["blobs/\(digest.hex.prefix(2))/\(digest.hex)"])
        }
    }

    @Test("The same content from several nodes at once is stored once: one row, one object")
    func deduplication() async throws {
        try await Self.withStores(nodes: 2) { stores, fixture in
            let small = Self.content(5000, seed: 5)
            let large = Self.content(300_000, seed: 6)
            for bytes in [small, large] {
                let digests = try await withThrowingTaskGroup(of: BlobDigest.self) { group in
                    for index in 0..<6 {
                        let store = stores[index % 2]
                        group.addTask { try await store.store(bytes) }
                    }
                    return try await group.reduce(into: Set()) { $0.insert($1) }
                }
                #expect(digests.count == 1)
            }
            #expect(try await fixture.rows().count == 1)
            #expect(try await fixture.objectKeys().count == 1)
            let digest = BlobDigest(bytes: MessageDigest.hash(.sha256, small))
            #expect(Array(try await stores[1].read(digest, range: 0..<5000).readableBytesView) == small)
        }
    }

    @Test("remove() deletes a small blob's row and a large blob's object; neither is readable afterwards")
    func removal() async throws {
        try await Self.withStores(cacheBytes: 8 << 20) { stores, fixture in
            let store = stores[0]
            let small = try await store.store(Self.content(2000, seed: 7))
            let large = try await store.store(Self.content(200_000, seed: 8))
            try await store.remove(small)
            #expect(try await fixture.rows() == [])
            #expect(try await fixture.objectKeys().count == 1)
            try await store.remove(large)
            #expect(try await fixture.objectKeys() == [])
            #expect(try await store.storedSizes([small, large]) == [nil, nil])
            #expect(!store.contains(small) && !store.contains(large))
            for (digest, size) in [(small, Int64(2000)), (large, Int64(200_000))] {
                do {
                    _ = try await store.read(digest, range: 0..<size)
                    Issue.record("blob \(digest) was read after its removal")
                } catch let error as BlobStoreError {
                    #expect(error.code == .missingBlob)
                }
            }
            try await store.remove(small)  // removing what is gone is not an error
        }
    }

    @Test("A limit of 0 stores every blob in the object store")
    func disabled() async throws {
        try await Self.withStores(limit: 0) { stores, fixture in
            #expect(stores[0].smallBlobs == nil)
            let digest = try await stores[0].store(Self.content(100, seed: 9))
            #expect(try await fixture.rows() == [])
            #expect(try await fixture.objectKeys() == ["blobs/\(digest.hex.prefix(2))/\(digest.hex)"])
            #expect(
                Array(try await stores[0].read(digest, range: 0..<100).readableBytesView) == Self.content(100, seed: 9))
        }
    }
}

/// What a test knows of the backends behind its stores, to look at them directly.
struct ObjectStoreFixture: Sendable {
    let databaseURL: String
    let location: ObjectStoreLocation

    /// The digests of the `small_blobs` table, sorted.
    func rows() async throws -> [String] {
        try await PostgresServer.shared.psql(databaseURL, "SELECT digest FROM small_blobs ORDER BY digest")
            .split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    /// The keys of the bucket, as the object store lists them (ListObjectsV2).
    func objectKeys() async throws -> [String] {
        let result = try await ChildProcess.run(
            curl + ["-sf", "\(location.endpoint)/\(location.bucket)?list-type=2&prefix=\(location.prefix)%2F"])
        guard result.status == 0 else { throw CommandFailure(description: "listing the bucket: \(result.output)") }
        return result.output.components(separatedBy: "<Key>").dropFirst()
            .compactMap { $0.components(separatedBy: "</Key>").first }.sorted()
    }

    /// Deletes a blob's object behind the blob store's back.
    func deleteObject(_ digest: BlobDigest) async throws {
        let key = "\(location.prefix)/\(digest.hex.prefix(2))/\(digest.hex)"
        let result = try await ChildProcess.run(
            curl + ["-sf", "-X", "DELETE", "\(location.endpoint)/\(location.bucket)/\(key)"])
        guard result.status == 0 else { throw CommandFailure(description: "deleting \(key): \(result.output)") }
    }

    /// curl signing its requests with the test server's credentials.
    private var curl: [String] {
        [
            "curl", "--aws-sigv4", "aws:amz:\(location.region):s3", "--user",
            "\(location.accessKeyID):\(location.secretAccessKey)", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
        ]
    }
}
