import CairnCore
import CairnTestSupport
import Foundation
import NIOCore
import Testing

@testable import CairnObjectStore

/// A node's disk cache of object-store blobs (``BlobDiskCache``) in front of a real object store (SeaweedFS), with
/// small blobs in a real PostgreSQL.
@Suite("Blob disk cache", .requires("weed", "curl", postgres: true))
struct BlobDiskCacheTests {
    @Test("A blob read whole from the object store is cached and served after its object is gone; remove() drops it")
    func servesAndForgets() async throws {
        try await SmallBlobTests.withStores(nodes: 2, cacheBytes: 64 << 20) { stores, fixture in
            let (writer, reader) = (stores[0], stores[1])
            let bytes = SmallBlobTests.content(3_000_000, seed: 1)
            let digest = try await writer.store(bytes)
            // The writing node keeps its staged file as its copy; the other node has none until it reads.
            #expect(writer.cache?.holds(digest) == true)
            #expect(reader.cache?.holds(digest) == false)
            #expect(try await reader.openFile(digest) == nil)
            let whole = try await reader.read(digest, range: 0..<Int64(bytes.count))
            #expect(Array(whole.readableBytesView) == bytes)
            #expect(reader.cache?.holds(digest) == true)

            try await fixture.deleteObject(digest)
            // Only the cache has it now: reads are served from there, but the store does not count it as stored.
            #expect(try await reader.storedSizes([digest]) == [nil])
            let range = try await reader.read(digest, range: 1_000_000..<1_000_500)
            #expect(Array(range.readableBytesView) == Array(bytes[1_000_000..<1_000_500]))
            let file = try #require(try await reader.openFile(digest))
            #expect(file.size == Int64(bytes.count))
            try file.handle.close()

            // Retention on the writing node removes the blob from its own cache.
            try await writer.remove(digest)
            #expect(writer.cache?.holds(digest) == false)
            await #expect(throws: BlobStoreError.self) { _ = try await writer.read(digest, range: 0..<10) }
            #expect(try await writer.openFile(digest) == nil)
            // The other node's copy outlives it until evicted (harmless: nothing names the blob any more) ...
            #expect(reader.cache?.holds(digest) == true)
            // ... and goes when that node removes it.
            try await reader.remove(digest)
            #expect(reader.cache?.holds(digest) == false)
            await #expect(throws: BlobStoreError.self) { _ = try await reader.read(digest, range: 0..<10) }
        }
    }

    @Test("A cached file that is missing or of another size is dropped, and the object store answers")
    func damagedCopies() async throws {
        try await SmallBlobTests.withStores(cacheBytes: 64 << 20) { stores, _ in
            let store = stores[0]
            let cache = try #require(store.cache)
            let bytes = SmallBlobTests.content(500_000, seed: 2)
            let digest = try await store.store(bytes)
            let path = cache.directory + "/" + digest.hex
            #expect(FileManager.default.fileExists(atPath: path))

            try Data(bytes.prefix(1000)).write(to: URL(fileURLWithPath: path))
            #expect(try await store.openFile(digest) == nil)
            #expect(!cache.holds(digest))
            #expect(Array(try await store.read(digest, range: 0..<500_000).readableBytesView) == bytes)
            // The whole read cached it again, at its size.
            #expect(cache.holds(digest))
            #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == 500_000)

            try FileManager.default.removeItem(atPath: path)
            var streamed: [UInt8] = []
            try await store.readChunks(of: digest, range: 0..<500_000, chunkSize: 65536) {
                streamed += Array($0.readableBytesView)
            }
            #expect(streamed == bytes)
        }
    }

    @Test("Eviction keeps the cache within its bytes, least recently used first")
    func eviction() async throws {
        let blob: Int64 = 300_000
        try await SmallBlobTests.withStores(cacheBytes: 1 << 20, largestCached: blob) { stores, _ in
            let store = stores[0]
            let cache = try #require(store.cache)
            var digests: [BlobDigest] = []
            for seed in 0..<3 {
                digests.append(try await store.store(SmallBlobTests.content(Int(blob), seed: UInt8(seed))))
            }
            #expect(cache.usage.blobs == 3)
            // A read makes the first the most recently used: the second is the one a fourth blob pushes out.
            _ = try await store.read(digests[0], range: 0..<10)
            digests.append(try await store.store(SmallBlobTests.content(Int(blob), seed: 3)))
            #expect(cache.usage.blobs == 3)
            #expect(cache.usage.bytes <= cache.capacity)
            #expect(digests.map(cache.holds) == [true, false, true, true])
            // A blob larger than the largest cached is not kept.
            _ = try await store.store(SmallBlobTests.content(Int(blob) + 1, seed: 4))
            #expect(cache.usage.blobs == 3)
            let files = try FileManager.default.contentsOfDirectory(atPath: cache.directory).filter {
                !$0.hasPrefix(".")
            }
            #expect(Set(files) == Set([digests[0], digests[2], digests[3]].map(\.hex)))
            // The evicted blob is read from the object store, and cached again.
            #expect(
                Array(try await store.read(digests[1], range: 0..<blob).readableBytesView)
                    == SmallBlobTests.content(Int(blob), seed: 1))
            #expect(cache.holds(digests[1]))
            #expect(cache.usage.bytes <= cache.capacity)
        }
    }

    @Test("A new cache starts empty, whatever its directory held")
    func startsEmpty() throws {
        let directory = try TemporaryDirectory(prefix: "cairn-blob-cache")
        let path = directory.path + "/cache"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Data("stale".utf8).write(to: URL(fileURLWithPath: path + "/" + String(repeating: "a", count: 64)))
        let cache = try BlobDiskCache(directory: path, capacity: 1 << 20)
        #expect(cache.usage.blobs == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == [])
    }
}

@Suite("Recency list")
struct RecencyListTests {
    static func digest(_ value: UInt8) -> BlobDigest {
        BlobDigest(bytes: MessageDigest.hash(.sha256, [value]))
    }

    @Test("Oldest first, a touch makes a blob the newest, sizes add up")
    func order() {
        var list = RecencyList()
        for value in UInt8(0)..<5 { list.insert(Self.digest(value), size: Int64(value) + 1) }
        #expect(list.bytes == 15)
        #expect(list.touch(Self.digest(0)) == 1)
        #expect(list.touch(Self.digest(9)) == nil)
        #expect(list.remove(Self.digest(2)) == 3)
        list.insert(Self.digest(3), size: 10)  // re-inserted: newest, with its new size
        var order: [BlobDigest] = []
        while let oldest = list.removeOldest() { order.append(oldest.digest) }
        #expect(order == [1, 4, 0, 3].map(Self.digest))
        #expect(list.bytes == 0 && list.count == 0)
    }
}
