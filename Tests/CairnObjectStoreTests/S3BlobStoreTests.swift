import CairnCore
import CairnObjectStore
import CairnTestSupport
import Foundation
import NIOCore
import Testing

/// ``S3BlobStore`` against a real S3 server: SeaweedFS's gateway on loopback.
@Suite("S3 blob store", .requires("weed"))
struct S3BlobStoreTests {
    /// A store on a new bucket of the shared SeaweedFS server (which accepts writes once it is returned).
    static func makeStore(prefix: String = "blobs", staging: TemporaryDirectory) async throws -> S3BlobStore {
        let location = ObjectStoreLocation(
            endpoint: try await SeaweedServer.shared.s3Endpoint(),
            bucket: "cairn-\(UUID().uuidString.lowercased().prefix(12))", prefix: prefix,
            accessKeyID: SeaweedServer.accessKeyID, secretAccessKey: SeaweedServer.secretAccessKey)
        let store = try S3BlobStore(location: location, stagingDirectory: staging.path)
        try await store.createBucketIfNeeded()
        return store
    }

    @Test("A blob is stored once, read whole and by range, sized, and removed")
    func roundTrip() async throws {
        let staging = try TemporaryDirectory(prefix: "cairn-s3-staging")
        let store = try await Self.makeStore(staging: staging)
        let content = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let digest = try await store.store(content)
        #expect(digest == BlobDigest(bytes: MessageDigest.hash(.sha256, content)))
        #expect(try await store.storedSizes([digest, BlobDigest.empty]) == [Int64(content.count), nil])
        let whole = try await store.read(digest, range: 0..<Int64(content.count))
        #expect(Array(whole.readableBytesView) == content)
        let middle = try await store.read(digest, range: 1_000_000..<1_000_100)
        #expect(Array(middle.readableBytesView) == Array(content[1_000_000..<1_000_100]))
        var chunks: [Int] = []
        try await store.readChunks(of: digest, range: 0..<Int64(content.count), chunkSize: 256 * 1024) {
            chunks.append($0.readableBytes)
        }
        #expect(chunks.allSatisfy { $0 <= 256 * 1024 })
        #expect(chunks.reduce(0, +) == content.count)
        // The same content again is the same blob; the staging directory keeps nothing.
        #expect(try await store.store(content) == digest)
        #expect(try FileManager.default.subpathsOfDirectory(atPath: staging.path).filter { $0.count == 64 + 3 } == [])

        try await store.remove(digest)
        #expect(try await store.storedSizes([digest]) == [nil])
        await #expect(throws: BlobStoreError.self) { _ = try await store.read(digest, range: 0..<10) }
        try await store.remove(digest)  // removing a missing blob is not an error
    }

    @Test("Concurrent uploads of the same content from two nodes store one blob that both can read")
    func concurrentSameContent() async throws {
        let staging = try TemporaryDirectory(prefix: "cairn-s3-staging")
        let first = try await Self.makeStore(staging: staging)
        let other = try TemporaryDirectory(prefix: "cairn-s3-staging")
        let second = try S3BlobStore(location: first.location, stagingDirectory: other.path)
        let content = Array(repeating: UInt8(7), count: 200_000)
        let digests = try await withThrowingTaskGroup(of: BlobDigest.self) { group in
            for index in 0..<6 {
                let store = index % 2 == 0 ? first : second
                group.addTask { try await store.store(content) }
            }
            return try await group.reduce(into: Set()) { $0.insert($1) }
        }
        #expect(digests.count == 1)
        let digest = try #require(digests.first)
        #expect(Array(try await second.read(digest, range: 0..<200_000).readableBytesView) == content)
    }

    @Test("An object store that cannot be reached is a clear error, not a stored blob")
    func unreachable() async throws {
        let staging = try TemporaryDirectory(prefix: "cairn-s3-staging")
        let location = ObjectStoreLocation(
            endpoint: "http://127.0.0.1:\(try PostgresServer.unusedPort())", bucket: "b", accessKeyID: "k",
            secretAccessKey: "s")
        let store = try S3BlobStore(location: location, stagingDirectory: staging.path)
        let error = await #expect(throws: StorageUnavailable.self) { _ = try await store.store(Array("x".utf8)) }
        #expect(error?.backend == .blobs)
    }

    @Test("Locations parse s3://bucket/prefix and refuse what they cannot use")
    func locations() throws {
        let location = try ObjectStoreLocation(
            url: "s3://cache/team/a/", endpoint: "http://127.0.0.1:8333", accessKeyID: "k", secretAccessKey: "s")
        #expect(location.bucket == "cache")
        #expect(location.prefix == "team/a")
        #expect(throws: ObjectStoreError.self) {
            try ObjectStoreLocation(url: "/var/blobs", endpoint: "http://h", accessKeyID: "k", secretAccessKey: "s")
        }
        #expect(throws: ObjectStoreError.self) {
            try ObjectStoreLocation(url: "s3://b", endpoint: "h:1", accessKeyID: "k", secretAccessKey: "s")
        }
    }
}

extension BlobStore {
    /// Writes `bytes` through a writer and commits them.
    func store(_ bytes: [UInt8]) async throws -> BlobDigest {
        let writer = try makeWriter()
        try await writer.write(ByteBuffer(bytes: bytes))
        _ = try await writer.finish()
        return try await writer.commit()
    }
}
