import Foundation
import NIOCore
import Testing

@testable import CairnCore

/// The in-memory caches in front of SQLite and the blob files: they must never serve what the store no longer
/// holds, and must stay within their bounds.
@Suite("Memory caches")
struct MemoryCacheTests {
    @Test(
        "A cached object is replaced, deleted and expired as the store is; a new bucket is seen at once",
        arguments: MetadataBackend.available)
    func objectCacheFollowsEveryWrite(_ backend: MetadataBackend) async throws {
        try await MetadataStoreTests.withStore(backend) { store in
            #expect(try await store.bucket("bucket") == nil)
            try await store.createBucket("bucket", at: MetadataStoreTests.date)
            #expect(try await store.bucket("bucket") != nil)

            let first = MetadataStoreTests.object("key", etag: "first")
            try await store.putObject(first)
            #expect(try await store.object(bucket: "bucket", key: "key")?.etag == "first")
            #expect(try await store.object(bucket: "bucket", key: "key")?.etag == "first")  // from the cache

            try await store.putObject(MetadataStoreTests.object("key", etag: "second"))
            #expect(try await store.object(bucket: "bucket", key: "key")?.etag == "second")

            try await store.deleteObject(bucket: "bucket", key: "key")
            #expect(try await store.object(bucket: "bucket", key: "key") == nil)

            try await store.putObject(first)
            #expect(try await store.object(bucket: "bucket", key: "key")?.etag == "first")
            var policy = RetentionPolicy()
            policy.global.maximumAge = 86_400
            _ = try await RetentionJob(metadata: store, policy: policy)
                .run(now: MetadataStoreTests.date.addingTimeInterval(2 * 86_400))
            #expect(try await store.object(bucket: "bucket", key: "key") == nil)

            try await store.deleteBucket("bucket")
            #expect(try await store.bucket("bucket") == nil)
        }
    }

    @Test(
        "Concurrent replacements and reads of one key: once the writes are done, every read sees the last",
        arguments: MetadataBackend.available)
    func concurrentWritesLeaveNoStaleEntry(_ backend: MetadataBackend) async throws {
        try await MetadataStoreTests.withStore(backend) { store in
            try await store.createBucket("bucket", at: MetadataStoreTests.date)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<50 {
                    group.addTask { try await store.putObject(MetadataStoreTests.object("hot", etag: "v\(round)")) }
                    group.addTask { _ = try await store.object(bucket: "bucket", key: "hot") }
                }
                try await group.waitForAll()
            }
            try await store.putObject(MetadataStoreTests.object("hot", etag: "last"))
            for _ in 0..<3 { #expect(try await store.object(bucket: "bucket", key: "hot")?.etag == "last") }
        }
    }

    @Test("The row cache stays within its capacity, updates in place and drops a read that raced a write")
    func rowCacheCapacityAndGenerations() {
        let cache = CoherentCache<Int, String>(capacity: 3, seed: 1)
        for key in 0..<5 {
            cache.insert("v\(key)", for: key, readAt: cache.generation)
            #expect(cache.value(for: key) == "v\(key)")  // the entry just inserted is never the one evicted
            #expect(cache.count == min(key + 1, 3))
        }
        let held = (0..<5).filter { cache.value(for: $0) != nil }
        #expect(held.count == 3 && held.contains(4))
        cache.replace(held[0], with: "new")  // a held key is updated, nothing evicted
        #expect(cache.value(for: held[0]) == "new" && cache.count == 3)
        let before = cache.generation
        cache.invalidate(4)
        #expect(cache.value(for: 4) == nil && cache.count == 2)
        cache.insert("stale", for: 4, readAt: before)  // read before the write committed: not kept
        #expect(cache.value(for: 4) == nil)
        cache.insert("fresh", for: 4, readAt: cache.generation)
        #expect(cache.value(for: 4) == "fresh")
        for key in 10..<10_000 {
            cache.insert("w", for: key, readAt: cache.generation)
            if key % 7 == 0 { cache.invalidate(key - 3) }  // removals from the middle keep the slots consistent
        }
        #expect(cache.count <= 3 && cache.value(for: 9_999) == "w")
        cache.invalidateAll()
        #expect(cache.count == 0 && cache.value(for: 9_999) == nil)
    }

    @Test("Reads cycling through more rows than the row cache holds still hit it")
    func rowCacheCyclicReads() {
        let cache = CoherentCache<Int, Int>(capacity: 1_000, seed: 42)
        var hits = 0
        for pass in 0..<6 {
            for key in 0..<1_250 {
                if cache.value(for: key) != nil {
                    if pass >= 2 { hits += 1 }
                } else {
                    cache.insert(key, for: key, readAt: cache.generation)
                }
            }
        }
        let rate = Double(hits) / Double(4 * 1_250)
        #expect(rate > 0.5, "hit rate \(rate)")
    }

    private func blob(_ index: Int, _ size: Int) -> (BlobDigest, ByteBuffer) {
        let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
        return (
            BlobDigest(bytes: MessageDigest.hash(.sha256, bytes + withUnsafeBytes(of: index) { Array($0) })),
            ByteBuffer(bytes: bytes)
        )
    }

    @Test("The blob cache keeps whole small blobs within its budget")
    func blobCacheBudget() {
        let cache = BlobContentCache(capacity: 10_000, largestEntry: 4_000, seed: 7)
        let big = blob(0, 5_000)
        cache.insert(big.1, for: big.0)
        #expect(cache.value(for: big.0) == nil)  // larger than an entry may be
        let blobs = (1...4).map { blob($0, 3_000) }
        for (index, (digest, bytes)) in blobs.enumerated() {
            cache.insert(bytes, for: digest)
            #expect(cache.value(for: digest) == bytes)  // the blob just inserted is never the one evicted
            #expect(cache.count == min(index + 1, 3))  // 12,000 bytes > 10,000: one of the others went
        }
        #expect(blobs.filter { cache.value(for: $0.0) != nil }.count == 3)
        cache.insert(blobs[3].1, for: blobs[3].0)  // already held: nothing changes
        #expect(cache.count == 3)
    }

    @Test("Reads cycling through more blobs than the cache holds still hit it")
    func blobCacheCyclicReads() {
        // 1,000 blobs fit; the reads cycle through 1,250, inserting each miss as a GET does. Evicting the oldest
        // first would miss every read here.
        let cache = BlobContentCache(capacity: 100_000, largestEntry: 100, seed: 42)
        let blobs = (0..<1_250).map { blob($0, 100) }
        var hits = 0
        for pass in 0..<6 {
            for (digest, bytes) in blobs {
                if cache.value(for: digest) != nil {
                    if pass >= 2 { hits += 1 }
                } else {
                    cache.insert(bytes, for: digest)
                }
            }
            #expect(cache.count == 1_000)
        }
        let rate = Double(hits) / Double(4 * blobs.count)
        #expect(rate > 0.5, "hit rate \(rate)")
    }

    @Test("Small reads served from memory equal the file, whole or a range")
    func blobStoreReadsThroughTheCache() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-mem-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blobs = try FileBlobStore(dataDirectory: directory, memoryCacheBytes: 1 << 20)
        let bytes = (0..<3_000).map { UInt8($0 % 251) }
        let writer = try blobs.makeWriter()
        try await writer.write(ByteBuffer(bytes: bytes))
        let digest = try await writer.commit()
        #expect(Array(buffer: try await blobs.read(digest, range: 0..<3_000)) == bytes)
        #expect(blobs.memoryCache?.value(for: digest) != nil)
        #expect(Array(buffer: try await blobs.read(digest, range: 100..<200)) == Array(bytes[100..<200]))
        await #expect(throws: BlobStoreError.self) { _ = try await blobs.read(digest, range: 0..<3_001) }
    }
}
