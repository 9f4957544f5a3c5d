import CairnCore
import Foundation
import Testing

/// ListObjectVersions at the store level, on each metadata backend: pages of any size, with and without a
/// delimiter, see every version and common prefix exactly once, in order, and resume from either marker.
@Suite("Version listing")
struct VersionListingTests {
    typealias Store = RetentionTests.Store

    /// Versions of keys `a` (3), `d/x` (2), `d/y` (1), `e` (2, the newest a delete marker) and `é` (1), newest
    /// first per key, as the listing must show them.
    static let expected = [
        "a#v3", "a#v2", "a#v1", "d/x#v2", "d/x#v1", "d/y#v1", "e#marker:m1", "e#v1", "é#v1",
    ]

    static func fill(_ store: Store) async throws {
        try await store.metadata.setBucketVersioning(bucket: "b", status: .enabled)
        for (key, count) in [("a", 3), ("d/x", 2), ("d/y", 1), ("e", 1), ("é", 1)] {
            for index in 1...count {
                try await VersionRetentionTests.put(store, key, "v\(index)", daysAgo: Double(10 - index))
            }
        }
        _ = try await store.metadata.putDeleteMarker(bucket: "b", key: "e", versionID: "m1", at: RetentionTests.now)
    }

    /// Every page of the listing, each entry as `key#version` or `prefix:P`, following the next markers.
    static func pages(_ store: Store, delimiter: String?, maxKeys: Int) async throws -> [[String]] {
        var pages: [[String]] = []
        var keyMarker: String?
        var versionIDMarker: String?
        while pages.count < 50 {
            let listing = try await store.metadata.listObjectVersions(
                bucket: "b", prefix: "", delimiter: delimiter, keyMarker: keyMarker, versionIDMarker: versionIDMarker,
                maxKeys: maxKeys)
            pages.append(
                listing.entries.map {
                    switch $0 {
                    case .commonPrefix(let prefix): "prefix:\(prefix)"
                    case .version(let version):
                        "\(version.object.key)#\(version.isDeleteMarker ? "marker:" : "")\(version.versionID)"
                    }
                })
            #expect(listing.entries.count <= maxKeys)
            guard listing.isTruncated else {
                #expect(listing.nextKeyMarker == nil && listing.nextVersionIDMarker == nil)
                break
            }
            #expect(listing.entries.count == maxKeys)
            keyMarker = try #require(listing.nextKeyMarker)
            versionIDMarker = listing.nextVersionIDMarker
        }
        return pages
    }

    @Test("Pages of any size see every version once, newest first per key", arguments: MetadataBackend.available)
    func pagesOfVersions(_ backend: MetadataBackend) async throws {
        try await RetentionTests.withStore(backend) { store in
            try await Self.fill(store)
            for maxKeys in [1, 2, 3, 4, 8, 9, 1000] {
                let pages = try await Self.pages(store, delimiter: nil, maxKeys: maxKeys)
                #expect(pages.flatMap { $0 } == Self.expected, "maxKeys \(maxKeys)")
                #expect(pages.count == max(1, (Self.expected.count + maxKeys - 1) / maxKeys), "maxKeys \(maxKeys)")
            }
        }
    }

    @Test(
        "A delimiter groups keys into one common prefix, listed once on any page size",
        arguments: MetadataBackend.available)
    func pagesWithDelimiter(_ backend: MetadataBackend) async throws {
        try await RetentionTests.withStore(backend) { store in
            try await Self.fill(store)
            let grouped = ["a#v3", "a#v2", "a#v1", "prefix:d/", "e#marker:m1", "e#v1", "é#v1"]
            for maxKeys in [1, 2, 3, 4, 7, 1000] {
                let pages = try await Self.pages(store, delimiter: "/", maxKeys: maxKeys)
                #expect(pages.flatMap { $0 } == grouped, "maxKeys \(maxKeys)")
            }
        }
    }

    @Test("An unknown version id marker is NoSuchVersion", arguments: MetadataBackend.available)
    func unknownVersionMarker(_ backend: MetadataBackend) async throws {
        try await RetentionTests.withStore(backend) { store in
            try await Self.fill(store)
            await #expect(throws: MetadataError.self) {
                _ = try await store.metadata.listObjectVersions(
                    bucket: "b", prefix: "", delimiter: nil, keyMarker: "a", versionIDMarker: "nope", maxKeys: 10)
            }
        }
    }
}
