import CairnCore
import Foundation
import NIOCore
import Testing

/// Retention with an injected clock: every rule, the dry run, uploads racing the sweep, and a crash mid-sweep.
@Suite("Retention")
struct RetentionTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let day: TimeInterval = 86400

    /// A data directory with a blob store and a metadata store, removed afterwards.
    struct Store {
        let directory: String
        let blobs: FileBlobStore
        let metadata: any MetadataStore

        /// Writes `size` bytes derived from `seed` as a committed blob.
        func blob(_ seed: String, size: Int = 1000) async throws -> BlobSegment {
            let writer = try blobs.makeWriter()
            var bytes = [UInt8]()
            var counter = 0
            while bytes.count < size {
                bytes += MessageDigest.hash(.sha256, Array("\(seed)-\(counter)".utf8))
                counter += 1
            }
            try await writer.write(ByteBuffer(bytes: bytes.prefix(size)))
            let digest = try await writer.commit()
            return BlobSegment(digest: digest, size: Int64(size))
        }

        /// Puts an object created at `created` (and last read then, unless `accessed` says otherwise).
        @discardableResult
        func put(
            _ key: String, bucket: String = "b", created: Date, accessed: Date? = nil, size: Int = 1000,
            metadata userMetadata: [String: String] = [:]
        ) async throws -> BlobSegment {
            let segment = try await blob(key, size: size)
            try await metadata.putObject(
                ObjectInfo(
                    bucket: bucket, key: key, size: segment.size, etag: "e",
                    headers: ObjectHeaders(userMetadata: userMetadata),
                    checksum: nil, partCount: nil, createdAt: created, segments: [segment]
                )
            )
            if let accessed { try await metadata.recordAccess([(bucket, key, accessed)]) }
            return segment
        }

        func keys(_ bucket: String = "b") async throws -> [String] {
            try await metadata.listObjects(bucket: bucket, prefix: "", delimiter: nil, from: nil, maxKeys: 1000).entries
                .compactMap {
                    if case .object(let object) = $0 { return object.key } else { return nil }
                }
        }

        /// The invariant: every object and entry that can be read names only blobs that exist.
        func checkConsistent() async throws {
            for bucket in try await metadata.buckets() {
                for key in try await keys(bucket.name) {
                    let object = try #require(try await metadata.object(bucket: bucket.name, key: key))
                    for segment in object.segments {
                        #expect(blobs.contains(segment.digest), "object \(key) names a missing blob")
                    }
                }
            }
        }
    }

    /// Runs `body` with a new store of `backend` holding bucket `b`.
    static func withStore(_ backend: MetadataBackend = .sqlite, _ body: (Store) async throws -> Void) async throws {
        try await backend.withStore { metadata, blobs, directory in
            let store = Store(directory: directory, blobs: blobs, metadata: metadata)
            try await store.metadata.createBucket("b", at: now.addingTimeInterval(-100 * day))
            try await body(store)
        }
    }

    @Test(
        "objects older than the age limit go, with their blobs; younger ones stay", arguments: MetadataBackend.available
    )
    func expiryByAge(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            let old = try await store.put("old", created: Self.now.addingTimeInterval(-20 * Self.day))
            let young = try await store.put("young", created: Self.now.addingTimeInterval(-1 * Self.day))
            var policy = RetentionPolicy()
            policy.global.maximumAge = 10 * Self.day
            let report = try await RetentionJob(metadata: store.metadata, policy: policy).run(now: Self.now)
            #expect(try await store.keys() == ["young"])
            #expect(report.expired["global:age"] == 1)
            #expect(report.blobsSwept == 1 && report.bytesFreed == 1000)
            #expect(!store.blobs.contains(old.digest))
            #expect(store.blobs.contains(young.digest))
            try await store.checkConsistent()
        }
    }

    @Test("idle expiry counts from the last read, not from creation", arguments: MetadataBackend.available)
    func expiryByIdleTime(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            let created = Self.now.addingTimeInterval(-30 * Self.day)
            try await store.put(
                "read-yesterday", created: created, accessed: Self.now.addingTimeInterval(-1 * Self.day))
            try await store.put("never-read", created: created)
            var policy = RetentionPolicy()
            policy.global.maximumIdle = 7 * Self.day
            let report = try await RetentionJob(metadata: store.metadata, policy: policy).run(now: Self.now)
            #expect(try await store.keys() == ["read-yesterday"])
            #expect(report.expired["global:idle"] == 1)
        }
    }

    @Test(
        "the size limit evicts the least recently read first, down to the low watermark",
        arguments: MetadataBackend.available)
    func sizeLimitEvictsLeastRecentlyRead(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            let created = Self.now.addingTimeInterval(-10 * Self.day)
            try await store.put(
                "read-3-days-ago", created: created, accessed: Self.now.addingTimeInterval(-3 * Self.day), size: 100_000
            )
            try await store.put(
                "read-1-day-ago", created: created, accessed: Self.now.addingTimeInterval(-1 * Self.day), size: 100_000)
            try await store.put(
                "read-5-days-ago", created: created, accessed: Self.now.addingTimeInterval(-5 * Self.day), size: 100_000
            )
            let entryBlob = try await store.blob("entry", size: 100_000)
            try await store.metadata.putEntry(
                ActionEntry(
                    namespace: "ccache/x", key: "k", value: entryBlob,
                    createdAt: Self.now.addingTimeInterval(-2 * Self.day))
            )
            var policy = RetentionPolicy()
            policy.highWatermark = 350_000
            policy.lowWatermark = 200_000
            let report = try await RetentionJob(metadata: store.metadata, policy: policy).run(now: Self.now)
            #expect(report.expired["size-limit"] == 2)
            #expect(try await store.keys() == ["read-1-day-ago"])
            #expect(try await store.metadata.entry(namespace: "ccache/x", key: "k") != nil, "read 2 days ago: kept")
            #expect(report.referencedBytes == 200_000)
        }
    }

    @Test(
        "the artifacts of the last N builds of each project are kept whatever their age",
        arguments: MetadataBackend.available)
    func keepLastBuilds(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            let old = Self.now.addingTimeInterval(-60 * Self.day)
            for build in 1...5 {
                try await store.put(
                    "app/\(build)/out.zip", created: old,
                    metadata: ["cairn-project": "app", "cairn-build": String(build)]
                )
            }
            try await store.put("lib/1/out.zip", created: old, metadata: ["cairn-project": "lib", "cairn-build": "1"])
            try await store.put("untagged", created: old)
            var policy = RetentionPolicy()
            policy.global.maximumAge = 30 * Self.day
            policy.keepLastBuilds = 2
            let report = try await RetentionJob(metadata: store.metadata, policy: policy).run(now: Self.now)
            #expect(try await store.keys() == ["app/4/out.zip", "app/5/out.zip", "lib/1/out.zip"])
            #expect(report.expired["global:age"] == 4)
        }
    }

    @Test(
        "multipart uploads left incomplete too long are aborted and their parts swept",
        arguments: MetadataBackend.available)
    func staleUploadsAborted(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            for (id, age) in [("stale", 10.0), ("fresh", 1.0)] {
                let created = Self.now.addingTimeInterval(-age * Self.day)
                try await store.metadata.createUpload(
                    UploadInfo(
                        uploadID: id, bucket: "b", key: id, headers: ObjectHeaders(), checksumAlgorithm: nil,
                        createdAt: created)
                )
                let part = try await store.blob("part-\(id)")
                try await store.metadata.putPart(
                    uploadID: id,
                    part: PartInfo(partNumber: 1, segment: part, etag: "e", checksum: nil, createdAt: created)
                )
            }
            var policy = RetentionPolicy()
            policy.abortIncompleteUploadsAfter = 7 * Self.day
            let report = try await RetentionJob(metadata: store.metadata, policy: policy).run(now: Self.now)
            #expect(report.uploadsAborted == 1)
            #expect(report.blobsSwept == 1)
            #expect(try await store.metadata.upload("stale") == nil)
            #expect(try await store.metadata.upload("fresh") != nil)
        }
    }

    @Test("a dry run reports what would go and changes nothing", arguments: MetadataBackend.available)
    func dryRunChangesNothing(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            let old = try await store.put("old", created: Self.now.addingTimeInterval(-20 * Self.day), size: 4321)
            var policy = RetentionPolicy()
            policy.global.maximumAge = 10 * Self.day
            let job = RetentionJob(metadata: store.metadata, policy: policy)
            let dry = try await job.run(now: Self.now, dryRun: true)
            #expect(dry.dryRun && dry.expired["global:age"] == 1 && dry.blobsSwept == 1 && dry.bytesFreed == 4321)
            #expect(try await store.keys() == ["old"])
            #expect(store.blobs.contains(old.digest))
            #expect(try FileManager.default.contentsOfDirectory(atPath: store.blobs.temporaryDirectory).isEmpty)
            let real = try await job.run(now: Self.now)
            #expect(
                real.expired == dry.expired && real.bytesFreed == dry.bytesFreed, "the dry run predicted the real one")
        }
    }

    @Test(
        "an upload in flight is never swept, and a write racing a sweep fails instead of naming a missing blob",
        arguments: MetadataBackend.available)
    func uploadsRacingTheSweep(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            var policy = RetentionPolicy()
            policy.gracePeriod = 3600
            // Committed a moment ago, not yet named by metadata: inside the grace period.
            let inFlight = try await store.blob("in-flight")
            _ = try await RetentionJob(metadata: store.metadata, policy: policy).run(now: Date())
            #expect(store.blobs.contains(inFlight.digest))
            try await store.metadata.putObject(
                ObjectInfo(
                    bucket: "b", key: "landed", size: inFlight.size, etag: "e", headers: ObjectHeaders(), checksum: nil,
                    partCount: nil, createdAt: Date(), segments: [inFlight]
                )
            )
            try await store.checkConsistent()

            // Content that was deleted long ago and is uploaded again: if the sweep removed the file first, the
            // write must fail (the client retries) rather than name a missing blob.
            let old = try await store.put("gone", created: Self.now.addingTimeInterval(-20 * Self.day))
            try await store.metadata.deleteObject(bucket: "b", key: "gone")
            _ = try await RetentionJob(metadata: store.metadata, policy: policy).run(now: Self.now)
            #expect(!store.blobs.contains(old.digest))
            await #expect(throws: MetadataError.blobMissing(old.digest)) {
                try await store.metadata.putObject(
                    ObjectInfo(
                        bucket: "b", key: "again", size: old.size, etag: "e", headers: ObjectHeaders(), checksum: nil,
                        partCount: nil, createdAt: Self.now, segments: [old]
                    )
                )
            }
            try await store.checkConsistent()
        }
    }

    @Test(
        "a run interrupted after removing files but before committing is finished by the next run",
        arguments: MetadataBackend.available)
    func crashMidSweep(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            var segments: [BlobSegment] = []
            for index in 0..<30 {
                segments.append(try await store.put("k\(index)", created: Self.now.addingTimeInterval(-20 * Self.day)))
            }
            for index in 0..<30 where index % 2 == 0 {
                try await store.metadata.deleteObject(bucket: "b", key: "k\(index)")
            }
            // The state a kill leaves inside a sweep batch: files unlinked, their rows still there.
            for index in [0, 2, 4] { unlink(store.blobs.path(for: segments[index].digest)) }
            try await store.checkConsistent()
            let report = try await RetentionJob(metadata: store.metadata, policy: RetentionPolicy(), batchSize: 4).run(
                now: Self.now)
            #expect(report.blobsSwept == 15)
            try await store.checkConsistent()
            for (index, segment) in segments.enumerated() {
                #expect(store.blobs.contains(segment.digest) == (index % 2 == 1))
            }
            let again = try await RetentionJob(metadata: store.metadata, policy: RetentionPolicy()).run(now: Self.now)
            #expect(again.blobsSwept == 0 && again.expiredCount == 0, "a second run finds nothing left to do")
        }
    }

    @Test(
        "temp files of crashed uploads are removed once older than the grace period",
        arguments: MetadataBackend.available)
    func temporaryFiles(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            let stale = store.blobs.temporaryDirectory + "/upload-stale"
            let live = store.blobs.temporaryDirectory + "/upload-live"
            _ = FileManager.default.createFile(atPath: stale, contents: Data("x".utf8))
            _ = FileManager.default.createFile(atPath: live, contents: Data("y".utf8))
            try FileManager.default.setAttributes(
                [.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: stale)
            let report = try await RetentionJob(metadata: store.metadata, policy: RetentionPolicy()).run(now: Date())
            #expect(report.temporaryFilesRemoved == 1)
            #expect(!FileManager.default.fileExists(atPath: stale))
            #expect(FileManager.default.fileExists(atPath: live))
        }
    }
}
