import CairnCore
import Foundation
import Testing

/// Versions in the metadata store and in retention: noncurrent versions keep their blobs, lifecycle expires them by
/// NoncurrentDays and NewerNoncurrentVersions, lone delete markers go, and object lock protects a version from
/// every deletion.
@Suite("Versions and retention")
struct VersionRetentionTests {
    typealias Store = RetentionTests.Store
    static let now = RetentionTests.now
    static let day = RetentionTests.day

    /// Puts version `versionID` of `key` in bucket `b`, created `daysAgo` days before now.
    @discardableResult
    static func put(
        _ store: Store, _ key: String, _ versionID: String, daysAgo: Double, headers: ObjectHeaders = ObjectHeaders()
    ) async throws -> BlobSegment {
        let segment = try await store.blob("\(key)-\(versionID)")
        try await store.metadata.putObject(
            ObjectInfo(
                bucket: "b", key: key, size: segment.size, etag: "e-\(versionID)", headers: headers, checksum: nil,
                partCount: nil, createdAt: now.addingTimeInterval(-daysAgo * day), segments: [segment],
                versionID: versionID))
        return segment
    }

    static func versionIDs(_ store: Store, _ key: String? = nil) async throws -> [String] {
        try await store.metadata.listObjectVersions(
            bucket: "b", prefix: key ?? "", delimiter: nil, keyMarker: nil, versionIDMarker: nil, maxKeys: 1000
        ).entries.compactMap {
            guard case .version(let version) = $0 else { return nil }
            return version.isDeleteMarker ? "marker:\(version.versionID)" : version.versionID
        }
    }

    static func run(_ store: Store, _ policy: RetentionPolicy = RetentionPolicy()) async throws -> RetentionReport {
        try await RetentionJob(metadata: store.metadata, policy: policy).run(now: now)
    }

    static func rule(
        noncurrentDays: Int? = nil, newer: Int? = nil, expirationDays: Int? = nil, markers: Bool? = nil
    ) -> LifecycleRule {
        LifecycleRule(
            id: "r", enabled: true, prefix: "", expirationDays: expirationDays, abortIncompleteUploadDays: nil,
            noncurrentDays: noncurrentDays, newerNoncurrentVersions: newer, expiredObjectDeleteMarker: markers)
    }

    @Test(
        "A version names its blob without copying it; no blob a version names is swept",
        arguments: MetadataBackend.available)
    func versionsKeepTheirBlobs(_ backend: MetadataBackend) async throws {
        try await RetentionTests.withStore(backend) { store in
            try await store.metadata.setBucketVersioning(bucket: "b", status: .enabled)
            let first = try await Self.put(store, "k", "v1", daysAgo: 30)
            try await Self.put(store, "k", "v2", daysAgo: 20)
            _ = try await store.metadata.putDeleteMarker(bucket: "b", key: "k", versionID: "m1", at: Self.now)
            #expect(try await store.metadata.object(bucket: "b", key: "k") == nil)
            #expect(try await Self.versionIDs(store) == ["marker:m1", "v2", "v1"])
            let report = try await Self.run(store)
            #expect(report.blobsSwept == 0)
            #expect(store.blobs.contains(first.digest))
            let read = try #require(try await store.metadata.objectVersion(bucket: "b", key: "k", versionID: "v1"))
            #expect(read.object.segments == [first] && !read.isLatest)
            // Deleting the marker makes v2 current again.
            _ = try await store.metadata.deleteObjectVersion(
                bucket: "b", key: "k", versionID: "m1", bypassGovernance: false, at: Self.now)
            #expect(try await store.metadata.object(bucket: "b", key: "k")?.versionID == "v2")
        }
    }

    @Test(
        "NoncurrentVersionExpiration removes versions noncurrent for NoncurrentDays, keeping the newest N",
        arguments: MetadataBackend.available)
    func noncurrentExpiration(_ backend: MetadataBackend) async throws {
        try await RetentionTests.withStore(backend) { store in
            try await store.metadata.setBucketVersioning(bucket: "b", status: .enabled)
            var segments: [BlobSegment] = []
            for (index, age) in [50.0, 40, 30, 20, 1].enumerated() {
                segments.append(try await Self.put(store, "k", "v\(index)", daysAgo: age))
            }
            // v0…v2 became noncurrent 40, 30 and 20 days ago; v3 a day ago; v4 is current.
            try await store.metadata.setLifecycle(bucket: "b", rules: [Self.rule(noncurrentDays: 10, newer: 2)])
            let report = try await Self.run(store)
            #expect(try await Self.versionIDs(store) == ["v4", "v3", "v2"])
            #expect(report.expired["lifecycle:b:r:noncurrent"] == 2)
            #expect(!store.blobs.contains(segments[0].digest) && !store.blobs.contains(segments[1].digest))
            #expect(store.blobs.contains(segments[2].digest))
        }
    }

    @Test(
        "Expiration in a versioned bucket adds a delete marker; ExpiredObjectDeleteMarker removes lone markers",
        arguments: MetadataBackend.available)
    func expirationMakesMarkers(_ backend: MetadataBackend) async throws {
        try await RetentionTests.withStore(backend) { store in
            try await store.metadata.setBucketVersioning(bucket: "b", status: .enabled)
            let old = try await Self.put(store, "old", "v1", daysAgo: 30)
            try await store.metadata.setLifecycle(bucket: "b", rules: [Self.rule(expirationDays: 10)])
            _ = try await Self.run(store)
            #expect(try await store.metadata.object(bucket: "b", key: "old") == nil)
            let ids = try await Self.versionIDs(store)
            #expect(ids.count == 2 && ids[0].hasPrefix("marker:") && ids[1] == "v1")
            #expect(store.blobs.contains(old.digest))

            // Once the noncurrent version goes, the marker is alone and goes too.
            try await store.metadata.setLifecycle(
                bucket: "b", rules: [Self.rule(noncurrentDays: 0, markers: true)])
            _ = try await RetentionJob(metadata: store.metadata, policy: RetentionPolicy()).run(
                now: Self.now.addingTimeInterval(Self.day))
            #expect(try await Self.versionIDs(store) == [])
            #expect(!store.blobs.contains(old.digest))
        }
    }

    @Test(
        "A write never replaces a locked version in place, nor does DeleteObject remove it",
        arguments: MetadataBackend.available)
    func lockedVersionNotReplaced(_ backend: MetadataBackend) async throws {
        try await RetentionTests.withStore(backend) { store in
            try await Self.put(store, "k", "null", daysAgo: 1, headers: ObjectHeaders(legalHold: true))
            let locked = MetadataError.objectLocked(bucket: "b", key: "k", versionID: "null")
            await #expect(throws: locked) { try await Self.put(store, "k", "null", daysAgo: 0) }
            await #expect(throws: locked) { try await store.metadata.deleteObject(bucket: "b", key: "k") }
            #expect(try await store.metadata.object(bucket: "b", key: "k")?.headers.legalHold == true)
            // A new version id keeps the locked one as a noncurrent version instead.
            try await Self.put(store, "k", "v2", daysAgo: 0)
            #expect(try await Self.versionIDs(store) == ["v2", "null"])
        }
    }

    @Test(
        "A locked version is deleted by nobody: not by DELETE of its version, retention, size limit or gc",
        arguments: MetadataBackend.available)
    func lockedVersionsSurvive(_ backend: MetadataBackend) async throws {
        try await RetentionTests.withStore(backend) { store in
            try await store.metadata.setBucketVersioning(bucket: "b", status: .enabled)
            let until = Self.now.addingTimeInterval(5 * Self.day)
            let compliance = ObjectHeaders(retention: ObjectRetention(mode: .compliance, retainUntil: until))
            let governance = ObjectHeaders(retention: ObjectRetention(mode: .governance, retainUntil: until))
            let locked = try await Self.put(store, "c", "c1", daysAgo: 30, headers: compliance)
            try await Self.put(store, "c", "c2", daysAgo: 25)
            try await Self.put(store, "g", "g1", daysAgo: 30, headers: governance)
            try await Self.put(store, "h", "h1", daysAgo: 30, headers: ObjectHeaders(legalHold: true))

            await #expect(throws: MetadataError.objectLocked(bucket: "b", key: "c", versionID: "c1")) {
                _ = try await store.metadata.deleteObjectVersion(
                    bucket: "b", key: "c", versionID: "c1", bypassGovernance: true, at: Self.now)
            }
            await #expect(throws: MetadataError.self) {
                _ = try await store.metadata.deleteObjectVersion(
                    bucket: "b", key: "h", versionID: "h1", bypassGovernance: true, at: Self.now)
            }
            var policy = RetentionPolicy()
            policy.global.maximumAge = Self.day
            policy.highWatermark = 1
            try await store.metadata.setLifecycle(bucket: "b", rules: [Self.rule(noncurrentDays: 1)])
            _ = try await Self.run(store, policy)
            let left = try await Self.versionIDs(store)
            #expect(left.contains("c1") && left.contains("g1") && left.contains("h1"))
            #expect(store.blobs.contains(locked.digest))

            // GOVERNANCE yields to a bypass; after its date, COMPLIANCE yields to anyone.
            #expect(
                try await store.metadata.deleteObjectVersion(
                    bucket: "b", key: "g", versionID: "g1", bypassGovernance: true, at: Self.now) != nil)
            let later = until.addingTimeInterval(1)
            #expect(
                try await store.metadata.deleteObjectVersion(
                    bucket: "b", key: "c", versionID: "c1", bypassGovernance: false, at: later) != nil)
        }
    }
}
