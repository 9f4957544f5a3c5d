import CairnCore
import Foundation
import Testing

/// Tests for ``MetadataStore`` against a real SQLite database in a temporary directory.
@Suite("Metadata store")
struct MetadataStoreTests {
    static let date = Date(timeIntervalSince1970: 1_700_000_000)

    /// Runs `body` with a store of `backend` whose blobs are in a new temporary directory (a new database too for
    /// PostgreSQL), which is removed afterwards.
    static func withStore(
        _ backend: MetadataBackend, _ body: (any MetadataStore) async throws -> Void
    ) async throws {
        try await backend.withStore { store, blobs in try await $blobs.withValue(blobs) { try await body(store) } }
    }

    /// The blob store of the running test: metadata may only name blobs that exist, so `digest(_:)` writes them.
    @TaskLocal static var blobs: FileBlobStore?

    static func digest(_ text: String) -> BlobDigest {
        let digest = BlobDigest(bytes: MessageDigest.hash(.sha256, Array(text.utf8)))
        if let blobs, !blobs.contains(digest) {
            let path = blobs.path(for: digest)
            try? FileManager.default.createDirectory(
                atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true
            )
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        }
        return digest
    }

    static func object(
        _ key: String, in bucket: String = "bucket", etag: String? = nil, size: Int64 = 10,
        headers: ObjectHeaders = ObjectHeaders(), checksum: StoredChecksum? = nil
    ) -> ObjectInfo {
        ObjectInfo(
            bucket: bucket, key: key, size: size, etag: etag ?? MessageDigest.hash(.md5, Array(key.utf8)).hexString,
            headers: headers, checksum: checksum, partCount: nil, createdAt: date,
            segments: [BlobSegment(digest: digest(key), size: size)]
        )
    }

    /// The error `body` throws as a `MetadataError`, or nil (recording an issue) when it throws another or none.
    static func metadataError(_ body: () async throws -> Void) async -> MetadataError? {
        do {
            try await body()
            Issue.record("expected a MetadataError, but nothing was thrown")
            return nil
        } catch let error as MetadataError {
            return error
        } catch {
            Issue.record("expected a MetadataError, got \(error)")
            return nil
        }
    }

    /// Entries of a listing as text: keys as themselves, common prefixes with a "prefix:" tag.
    static func names(_ listing: ObjectListing) -> [String] {
        listing.entries.map {
            switch $0 {
            case .object(let object): object.key
            case .commonPrefix(let prefix): "prefix:\(prefix)"
            }
        }
    }

    // MARK: Buckets

    @Test("Buckets are created, listed and deleted; errors name the bucket", arguments: MetadataBackend.available)
    func buckets(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            try await store.createBucket("beta", at: Self.date)
            try await store.createBucket("alpha", at: Self.date)
            #expect(try await store.buckets().map(\.name) == ["alpha", "beta"])
            let alpha = try #require(try await store.bucket("alpha"))
            #expect(alpha == BucketInfo(name: "alpha", createdAt: Self.date, region: "us-east-1"))
            #expect(try await store.bucket("gamma") == nil)

            #expect(await Self.metadataError { try await store.createBucket("alpha") } == .bucketAlreadyExists("alpha"))

            try await store.putObject(Self.object("k", in: "alpha"))
            #expect(await Self.metadataError { try await store.deleteBucket("alpha") } == .bucketNotEmpty("alpha"))
            #expect(try await store.deleteObject(bucket: "alpha", key: "k"))
            try await store.deleteBucket("alpha")
            #expect(try await store.bucket("alpha") == nil)
            #expect(try await store.buckets().map(\.name) == ["beta"])
            #expect(await Self.metadataError { try await store.deleteBucket("alpha") } == .noSuchBucket("alpha"))
        }
    }

    @Test("A bucket with an upload in progress is not empty", arguments: MetadataBackend.available)
    func bucketWithUpload(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            try await store.createBucket("bucket")
            let upload = UploadInfo(
                uploadID: "u1", bucket: "bucket", key: "k", headers: ObjectHeaders(), checksumAlgorithm: nil,
                createdAt: Self.date
            )
            try await store.createUpload(upload)
            #expect(await Self.metadataError { try await store.deleteBucket("bucket") } == .bucketNotEmpty("bucket"))
            try await store.abortUpload("u1")
            try await store.deleteBucket("bucket")
        }
    }

    @Test("The region given at open is reported for buckets")
    func region() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cairn-meta-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteMetadataStore(dataDirectory: directory, region: "eu-west-3")
        try await store.createBucket("b")
        #expect(try await store.bucket("b")?.region == "eu-west-3")
    }

    // MARK: Objects

    @Test("Objects are stored, read back whole, replaced and deleted", arguments: MetadataBackend.available)
    func objects(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            try await store.createBucket("bucket")
            let headers = ObjectHeaders(
                contentType: "text/plain; charset=utf-8", contentEncoding: "gzip", cacheControl: "max-age=60",
                contentDisposition: "attachment; filename=\"é.txt\"", contentLanguage: "fr", expires: "0",
                userMetadata: ["color": "blue", "note": "a, b & c"]
            )
            let original = Self.object(
                "dir/é.txt", headers: headers, checksum: StoredChecksum(algorithm: .crc32c, value: "4waSgw==")
            )
            try await store.putObject(original)
            #expect(try await store.object(bucket: "bucket", key: "dir/é.txt") == original)
            // Keys are bytes: a canonically equivalent but differently encoded key is another key.
            #expect(try await store.object(bucket: "bucket", key: "dir/e\u{301}.txt") == nil)
            #expect(try await store.object(bucket: "bucket", key: "dir/") == nil)
            #expect(try await store.object(bucket: "other", key: "dir/é.txt") == nil)

            var replacement = Self.object("dir/é.txt", etag: "0123", size: 25)
            replacement.segments = [
                BlobSegment(digest: Self.digest("one"), size: 20), BlobSegment(digest: Self.digest("two"), size: 5),
            ]
            try await store.putObject(replacement)
            #expect(try await store.object(bucket: "bucket", key: "dir/é.txt") == replacement)

            #expect(try await store.deleteObject(bucket: "bucket", key: "dir/é.txt"))
            #expect(try await store.object(bucket: "bucket", key: "dir/é.txt") == nil)
            #expect(try await store.deleteObject(bucket: "bucket", key: "dir/é.txt") == false)
        }
    }

    @Test("A written object is cached as SQLite returns it; overwrites replace it in commit order, failures do not")
    func writesFillTheCache() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-meta-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteMetadataStore(dataDirectory: directory)
        try await Self.$blobs.withValue(try FileBlobStore(dataDirectory: directory)) {
            try await store.createBucket("bucket")
            var object = Self.object(
                "dir/é b+c.txt",
                headers: ObjectHeaders(contentType: "text/plain", userMetadata: ["owner": "ci", "note": "a, b"]),
                checksum: StoredChecksum(algorithm: .crc32c, value: "4waSgw=="))
            // A time with more precision than a Double of seconds since 1970 keeps, as `Date()` gives.
            object.createdAt = Date(timeIntervalSinceReferenceDate: 786_000_000.123_456_789)
            object.segments = [
                BlobSegment(digest: Self.digest("one"), size: 6), BlobSegment(digest: Self.digest("two"), size: 4),
            ]
            try await store.putObject(object)
            let cached = try #require(store.cachedObject(bucket: "bucket", key: object.key), "cached at once")
            // Another store on the same directory has an empty cache: it reads SQLite.
            let cold = try SQLiteMetadataStore(dataDirectory: directory)
            #expect(try await cold.object(bucket: "bucket", key: object.key) == cached)

            // A failed conditional write leaves the cached version; an overwrite replaces it.
            await #expect(throws: MetadataError.self) {
                try await store.putObject(Self.object(object.key, etag: "new"), condition: .keyAbsent)
            }
            #expect(store.cachedObject(bucket: "bucket", key: object.key) == cached)
            try await store.putObject(Self.object(object.key, etag: "newer"))
            #expect(store.cachedObject(bucket: "bucket", key: object.key)?.etag == "newer")

            // Concurrent overwrites of one key: the cache ends with the version SQLite kept, the last committed.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<64 {
                    group.addTask { try await store.putObject(Self.object("hot", etag: "v\(index)")) }
                }
                try await group.waitForAll()
            }
            let kept = try await cold.object(bucket: "bucket", key: "hot")
            #expect(kept != nil)
            #expect(store.cachedObject(bucket: "bucket", key: "hot") == kept)

            // Objects of many parts are not cached; a delete drops the key.
            var large = Self.object("large")
            large.segments = (0..<17).map { BlobSegment(digest: Self.digest("part \($0)"), size: 1) }
            large.size = 17
            try await store.putObject(large)
            #expect(store.cachedObject(bucket: "bucket", key: "large") == nil)
            #expect(try await store.deleteObject(bucket: "bucket", key: object.key))
            #expect(store.cachedObject(bucket: "bucket", key: object.key) == nil)
        }
    }

    @Test("Object operations on a missing bucket throw noSuchBucket", arguments: MetadataBackend.available)
    func objectsInMissingBucket(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            #expect(
                await Self.metadataError { try await store.putObject(Self.object("k", in: "nope")) }
                    == .noSuchBucket("nope")
            )
            #expect(
                await Self.metadataError { try await store.deleteObject(bucket: "nope", key: "k") }
                    == .noSuchBucket("nope")
            )
            #expect(
                await Self.metadataError {
                    _ = try await store.listObjects(bucket: "nope", prefix: "", delimiter: nil, from: nil, maxKeys: 10)
                } == .noSuchBucket("nope")
            )
        }
    }

    @Test("Conditional writes: If-None-Match: * and If-Match", arguments: MetadataBackend.available)
    func conditionalWrites(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            try await store.createBucket("bucket")
            let first = Self.object("k", etag: "etag-1")
            try await store.putObject(first, condition: .keyAbsent)
            #expect(
                await Self.metadataError {
                    try await store.putObject(Self.object("k", etag: "etag-2"), condition: .keyAbsent)
                } == .preconditionFailed
            )
            #expect(try await store.object(bucket: "bucket", key: "k")?.etag == "etag-1")

            #expect(
                await Self.metadataError {
                    try await store.putObject(Self.object("k", etag: "etag-2"), condition: .etagMatches("wrong"))
                } == .preconditionFailed
            )
            #expect(try await store.object(bucket: "bucket", key: "k")?.etag == "etag-1")

            try await store.putObject(Self.object("k", etag: "etag-2"), condition: .etagMatches("etag-1"))
            #expect(try await store.object(bucket: "bucket", key: "k")?.etag == "etag-2")
            try await store.putObject(Self.object("k", etag: "etag-3"), condition: .etagMatches("*"))
            #expect(try await store.object(bucket: "bucket", key: "k")?.etag == "etag-3")

            // If-Match on a key that does not exist.
            #expect(
                await Self.metadataError {
                    try await store.putObject(Self.object("absent"), condition: .etagMatches("*"))
                } == .noSuchKey(bucket: "bucket", key: "absent")
            )
            #expect(try await store.object(bucket: "bucket", key: "absent") == nil)
            // After a delete the key is absent again.
            try await store.deleteObject(bucket: "bucket", key: "k")
            try await store.putObject(Self.object("k", etag: "etag-4"), condition: .keyAbsent)
        }
    }

    // MARK: Listing

    static let listingKeys = ["a", "a/b", "a//b", "b", "é", "z", "dir/", "../../etc/passwd"]

    /// `listingKeys` in UTF-8 binary order, as S3 lists them.
    static let listingOrder = ["../../etc/passwd", "a", "a//b", "a/b", "b", "dir/", "z", "é"]

    static func withListingBucket(
        _ backend: MetadataBackend, _ body: (any MetadataStore) async throws -> Void
    ) async throws {
        try await withStore(backend) { store in
            try await store.createBucket("bucket")
            try await store.createBucket("other")
            for key in listingKeys.reversed() { try await store.putObject(object(key)) }
            try await store.putObject(object("a0", in: "other"))
            try await body(store)
        }
    }

    @Test("The expected order is the UTF-8 byte order")
    func expectedOrder() {
        let sorted = Self.listingKeys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        #expect(sorted == Self.listingOrder)
    }

    @Test("Keys are listed in UTF-8 binary order, with their metadata", arguments: MetadataBackend.available)
    func listingOrder(_ backend: MetadataBackend) async throws {
        try await Self.withListingBucket(backend) { store in
            let listing = try await store.listObjects(
                bucket: "bucket", prefix: "", delimiter: nil, from: nil, maxKeys: 1000
            )
            #expect(Self.names(listing) == Self.listingOrder)
            #expect(!listing.isTruncated)
            #expect(listing.resumeAt == nil)
            #expect(listing.lastName == "é")
            for entry in listing.entries {
                guard case .object(let object) = entry else { continue }
                #expect(object == Self.object(object.key))
            }
        }
    }

    @Test(
        "A prefix selects exactly the keys that start with its bytes",
        arguments: MetadataBackend.available,
        [
            ("a", ["a", "a//b", "a/b"]),
            ("a/", ["a//b", "a/b"]),
            ("a//", ["a//b"]),
            ("..", ["../../etc/passwd"]),
            ("dir/", ["dir/"]),
            ("é", ["é"]),
            ("e", []),
            ("zz", []),
        ]
    )
    func prefixListing(_ backend: MetadataBackend, _ example: (String, [String])) async throws {
        let (prefix, expected) = example
        try await Self.withListingBucket(backend) { store in
            let listing = try await store.listObjects(
                bucket: "bucket", prefix: prefix, delimiter: nil, from: nil, maxKeys: 1000
            )
            #expect(Self.names(listing) == expected)
            #expect(!listing.isTruncated)
        }
    }

    @Test(
        "A delimiter groups keys into common prefixes",
        arguments: MetadataBackend.available,
        [
            ("", ["prefix:../", "a", "prefix:a/", "b", "prefix:dir/", "z", "é"]),
            ("a/", ["prefix:a//", "a/b"]),
            ("a", ["a", "prefix:a/"]),
            ("dir/", ["dir/"]),
            ("../", ["prefix:../../"]),
            ("../../", ["prefix:../../etc/"]),
            ("../../etc/", ["../../etc/passwd"]),
            ("missing/", []),
        ]
    )
    func delimiterListing(_ backend: MetadataBackend, _ example: (String, [String])) async throws {
        let (prefix, expected) = example
        try await Self.withListingBucket(backend) { store in
            let listing = try await store.listObjects(
                bucket: "bucket", prefix: prefix, delimiter: "/", from: nil, maxKeys: 1000
            )
            #expect(Self.names(listing) == expected)
            #expect(!listing.isTruncated)
        }
    }

    @Test("A multi-character delimiter groups on the whole delimiter", arguments: MetadataBackend.available)
    func longDelimiter(_ backend: MetadataBackend) async throws {
        try await Self.withListingBucket(backend) { store in
            let listing = try await store.listObjects(
                bucket: "bucket", prefix: "", delimiter: "//", from: nil, maxKeys: 1000
            )
            #expect(Self.names(listing) == ["../../etc/passwd", "a", "prefix:a//", "a/b", "b", "dir/", "z", "é"])
        }
    }

    /// Lists page by page from `resumeAt` until a page is not truncated; returns every page's names.
    static func pages(
        _ store: any MetadataStore, prefix: String = "", delimiter: String?, maxKeys: Int
    ) async throws -> [[String]] {
        var pages: [[String]] = []
        var resumeAt: [UInt8]?
        while pages.count < 100 {
            let listing = try await store.listObjects(
                bucket: "bucket", prefix: prefix, delimiter: delimiter, from: resumeAt, maxKeys: maxKeys
            )
            let names = Self.names(listing)
            pages.append(names)
            #expect(names.count <= maxKeys)
            if let last = listing.entries.last {
                switch last {
                case .object(let object): #expect(listing.lastName == object.key)
                case .commonPrefix(let prefix): #expect(listing.lastName == prefix)
                }
            }
            guard listing.isTruncated else {
                #expect(listing.resumeAt == nil)
                break
            }
            #expect(names.count == maxKeys)
            let next: [UInt8] = try #require(listing.resumeAt)
            resumeAt = next
        }
        return pages
    }

    @Test(
        "Paging with a small maxKeys sees every key exactly once, in order", arguments: MetadataBackend.available,
        [1, 2, 3, 7, 8, 9])
    func paging(_ backend: MetadataBackend, _ maxKeys: Int) async throws {
        try await Self.withListingBucket(backend) { store in
            let pages = try await Self.pages(store, delimiter: nil, maxKeys: maxKeys)
            #expect(pages.flatMap { $0 } == Self.listingOrder)
            #expect(pages.count == max(1, (Self.listingOrder.count + maxKeys - 1) / maxKeys))
        }
    }

    @Test(
        "Paging with a delimiter sees every key and common prefix exactly once", arguments: MetadataBackend.available,
        [1, 2, 3])
    func pagingWithDelimiter(_ backend: MetadataBackend, _ maxKeys: Int) async throws {
        try await Self.withListingBucket(backend) { store in
            let pages = try await Self.pages(store, delimiter: "/", maxKeys: maxKeys)
            #expect(pages.flatMap { $0 } == ["prefix:../", "a", "prefix:a/", "b", "prefix:dir/", "z", "é"])
        }
    }

    @Test("Paging under a prefix stays under it", arguments: MetadataBackend.available)
    func pagingUnderPrefix(_ backend: MetadataBackend) async throws {
        try await Self.withListingBucket(backend) { store in
            let pages = try await Self.pages(store, prefix: "a", delimiter: nil, maxKeys: 2)
            #expect(pages == [["a", "a//b"], ["a/b"]])
        }
    }

    @Test("Many keys page correctly past the 1000-row batches", arguments: MetadataBackend.available)
    func manyKeys(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            try await store.createBucket("bucket")
            var keys: [String] = []
            for index in 0..<1_205 {
                let key = "k/\(String(index, radix: 16))/" + (index % 3 == 0 ? "x" : "y/z")
                keys.append(key)
                try await store.putObject(Self.object(key, size: 1))
            }
            let sorted = keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            let flat = try await Self.pages(store, delimiter: nil, maxKeys: 1000).flatMap { $0 }
            #expect(flat == sorted)
            let grouped = try await Self.pages(store, prefix: "k/", delimiter: "/", maxKeys: 500).flatMap { $0 }
            #expect(grouped.count == 1_205)
            #expect(Set(grouped).count == 1_205)
            #expect(grouped.allSatisfy { $0.hasPrefix("prefix:k/") && $0.hasSuffix("/") })
        }
    }

    // MARK: Multipart uploads

    static func part(_ number: Int, size: Int64, tag: String = "") -> PartInfo {
        let name = "part-\(number)\(tag)"
        return PartInfo(
            partNumber: number, segment: BlobSegment(digest: digest(name), size: size),
            etag: MessageDigest.hash(.md5, Array(name.utf8)).hexString, checksum: nil, createdAt: date
        )
    }

    /// Builds the object as the S3 layer does: segments in order, "<md5>-<count>" ETag.
    static let makeObject: @Sendable (UploadInfo, [PartInfo]) -> ObjectInfo = { upload, parts in
        ObjectInfo(
            bucket: upload.bucket, key: upload.key, size: parts.reduce(0) { $0 + $1.segment.size },
            etag: "3858f62230ac3c915f300c664312c63f-\(parts.count)", headers: upload.headers, checksum: nil,
            partCount: parts.count, createdAt: date, segments: parts.map(\.segment)
        )
    }

    @Test("Multipart: parts are checked, then the upload becomes an object", arguments: MetadataBackend.available)
    func multipart(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            try await store.createBucket("bucket")
            let upload = UploadInfo(
                uploadID: "upload-1", bucket: "bucket", key: "big/object.bin",
                headers: ObjectHeaders(contentType: "application/octet-stream", userMetadata: ["m": "1"]),
                checksumAlgorithm: .crc32, createdAt: Self.date
            )
            try await store.createUpload(upload)
            #expect(try await store.upload("upload-1") == upload)
            #expect(try await store.upload("upload-2") == nil)

            let small = Self.part(2, size: 3, tag: "-small")
            try await store.putPart(uploadID: "upload-1", part: Self.part(1, size: 10))
            try await store.putPart(uploadID: "upload-1", part: small)
            try await store.putPart(uploadID: "upload-1", part: Self.part(3, size: 7))
            #expect(try await store.parts(uploadID: "upload-1").map(\.partNumber) == [1, 2, 3])
            #expect(try await store.parts(uploadID: "upload-1", after: 1, limit: 1).map(\.partNumber) == [2])
            #expect(try await store.parts(uploadID: "upload-1")[1] == small)

            func complete(_ requested: [(Int, String)]) async throws -> ObjectInfo {
                try await store.completeUpload(
                    "upload-1", requested: requested.map { (partNumber: $0.0, etag: $0.1) }, minimumPartSize: 5,
                    condition: .none, at: Self.date, makeObject: Self.makeObject
                )
            }
            let etag1 = Self.part(1, size: 10).etag
            let etag2 = small.etag
            let etag3 = Self.part(3, size: 7).etag

            #expect(await Self.metadataError { _ = try await complete([(2, etag2), (1, etag1)]) } == .invalidPartOrder)
            // A part listed twice in a row counts once, when one of its ETags is its latest upload's (S3CompatibilityTests
            // completes with one); when neither is, the part is invalid.
            #expect(
                await Self.metadataError { _ = try await complete([(1, "stale"), (1, "wrong")]) } == .invalidPart(1))
            #expect(
                await Self.metadataError { _ = try await complete([(2, etag2), (1, etag1), (1, etag1)]) }
                    == .invalidPartOrder)
            #expect(await Self.metadataError { _ = try await complete([(1, "wrong"), (2, etag2)]) } == .invalidPart(1))
            #expect(await Self.metadataError { _ = try await complete([(1, etag1), (4, etag3)]) } == .invalidPart(4))
            #expect(
                await Self.metadataError { _ = try await complete([(1, etag1), (2, etag2), (3, etag3)]) }
                    == .entityTooSmall(partNumber: 2)
            )
            // Failed completions leave the upload and its parts as they were.
            #expect(try await store.upload("upload-1") == upload)
            #expect(try await store.parts(uploadID: "upload-1").count == 3)
            #expect(try await store.object(bucket: "bucket", key: "big/object.bin") == nil)

            // Uploading part 2 again replaces it.
            let bigger = Self.part(2, size: 6)
            try await store.putPart(uploadID: "upload-1", part: bigger)
            #expect(try await store.parts(uploadID: "upload-1").map(\.etag) == [etag1, bigger.etag, etag3])
            #expect(await Self.metadataError { _ = try await complete([(1, etag1), (2, etag2)]) } == .invalidPart(2))

            let object = try await complete([(1, etag1), (2, bigger.etag), (3, etag3)])
            #expect(object.segments.count == 3)
            #expect(object.segments == [Self.part(1, size: 10).segment, bigger.segment, Self.part(3, size: 7).segment])
            #expect(object.size == 23)
            #expect(object.partCount == 3)
            #expect(object.headers == upload.headers)
            #expect(try await store.object(bucket: "bucket", key: "big/object.bin") == object)
            #expect(try await store.upload("upload-1") == nil)
            #expect(
                await Self.metadataError { _ = try await store.parts(uploadID: "upload-1") }
                    == .noSuchUpload("upload-1")
            )
            // Completing again (a client retrying a Complete it got no answer to) gives the same object, while it is
            // the object at its key; once it is not, the upload is unknown.
            #expect(try await complete([(1, etag1)]) == object)
            try await store.deleteObject(bucket: "bucket", key: "big/object.bin")
            #expect(await Self.metadataError { _ = try await complete([(1, etag1)]) } == .noSuchUpload("upload-1"))
            #expect(
                try await store.uploads(bucket: "bucket", prefix: "", keyMarker: nil, uploadIDMarker: nil, limit: 10)
                    .isEmpty
            )
        }
    }

    @Test(
        "Multipart: the last part may be small, and a subset of parts may be completed",
        arguments: MetadataBackend.available)
    func multipartSmallLastPart(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            try await store.createBucket("bucket")
            let upload = UploadInfo(
                uploadID: "u", bucket: "bucket", key: "k", headers: ObjectHeaders(), checksumAlgorithm: nil,
                createdAt: Self.date
            )
            try await store.createUpload(upload)
            for part in [Self.part(1, size: 5), Self.part(2, size: 100), Self.part(5, size: 1)] {
                try await store.putPart(uploadID: "u", part: part)
            }
            let object = try await store.completeUpload(
                "u", requested: [(1, Self.part(1, size: 5).etag), (5, Self.part(5, size: 1).etag)],
                minimumPartSize: 5, makeObject: Self.makeObject
            )
            #expect(object.segments.map(\.size) == [5, 1])
            #expect(try await store.object(bucket: "bucket", key: "k")?.segments.map(\.size) == [5, 1])
        }
    }

    @Test("Multipart: completion honours write conditions", arguments: MetadataBackend.available)
    func multipartCondition(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            try await store.createBucket("bucket")
            try await store.putObject(Self.object("k", etag: "existing"))
            try await store.createUpload(
                UploadInfo(
                    uploadID: "u", bucket: "bucket", key: "k", headers: ObjectHeaders(), checksumAlgorithm: nil,
                    createdAt: Self.date
                )
            )
            try await store.putPart(uploadID: "u", part: Self.part(1, size: 1))
            let requested = [(partNumber: 1, etag: Self.part(1, size: 1).etag)]
            #expect(
                await Self.metadataError {
                    _ = try await store.completeUpload(
                        "u", requested: requested, minimumPartSize: 5, condition: .keyAbsent,
                        makeObject: Self.makeObject
                    )
                } == .preconditionFailed
            )
            #expect(try await store.object(bucket: "bucket", key: "k")?.etag == "existing")
            #expect(try await store.upload("u") != nil)
            _ = try await store.completeUpload(
                "u", requested: requested, minimumPartSize: 5, condition: .etagMatches("existing"),
                makeObject: Self.makeObject
            )
            #expect(try await store.object(bucket: "bucket", key: "k")?.partCount == 1)
        }
    }

    @Test("Multipart: unknown uploads and buckets are reported", arguments: MetadataBackend.available)
    func multipartErrors(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            #expect(
                await Self.metadataError {
                    try await store.createUpload(
                        UploadInfo(
                            uploadID: "u", bucket: "nope", key: "k", headers: ObjectHeaders(), checksumAlgorithm: nil,
                            createdAt: Self.date
                        )
                    )
                } == .noSuchBucket("nope")
            )
            #expect(
                await Self.metadataError { try await store.putPart(uploadID: "u", part: Self.part(1, size: 1)) }
                    == .noSuchUpload("u")
            )
            #expect(await Self.metadataError { try await store.abortUpload("u") } == .noSuchUpload("u"))
        }
    }

    @Test("Uploads are listed by key and filtered by prefix and markers", arguments: MetadataBackend.available)
    func listUploads(_ backend: MetadataBackend) async throws {
        try await Self.withStore(backend) { store in
            try await store.createBucket("bucket")
            for (id, key, offset) in [("u3", "b", 0.0), ("u1", "a", 1.0), ("u2", "a", 2.0), ("u4", "c/d", 0.0)] {
                try await store.createUpload(
                    UploadInfo(
                        uploadID: id, bucket: "bucket", key: key, headers: ObjectHeaders(), checksumAlgorithm: nil,
                        createdAt: Self.date.addingTimeInterval(offset)
                    )
                )
            }
            func ids(prefix: String = "", keyMarker: String? = nil, uploadIDMarker: String? = nil, limit: Int = 10)
                async throws -> [String]
            {
                try await store.uploads(
                    bucket: "bucket", prefix: prefix, keyMarker: keyMarker, uploadIDMarker: uploadIDMarker, limit: limit
                ).map(\.uploadID)
            }
            #expect(try await ids() == ["u1", "u2", "u3", "u4"])
            #expect(try await ids(limit: 2) == ["u1", "u2"])
            #expect(try await ids(prefix: "c/") == ["u4"])
            #expect(try await ids(keyMarker: "a") == ["u3", "u4"])
            #expect(try await ids(keyMarker: "a", uploadIDMarker: "u1") == ["u2", "u3", "u4"])
        }
    }
}
