import CairnCore
import CairnTestSupport
import Foundation
import NIOCore
import Testing

/// What PostgreSQL adds to the store-level tests (which run against it too): several nodes on one database.
@Suite("PostgreSQL metadata store", .requires(postgres: true))
struct PostgresMetadataStoreTests {
    /// Runs `body` with `count` stores (as on that many nodes) on one new database, sharing one blob directory.
    static func withNodes(
        _ count: Int, migrate: Bool = true, _ body: ([PostgresMetadataStore], FileBlobStore) async throws -> Void
    ) async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-pg-nodes")
        let blobs = try FileBlobStore(dataDirectory: directory.path)
        let url = try await PostgresServer.shared.makeDatabase()
        let nodes = try (0..<count).map { _ in try PostgresMetadataStore(url: url, blobs: blobs) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for node in nodes { group.addTask { await node.run() } }
            do {
                if migrate { try await nodes[0].migrate() }
                try await body(nodes, blobs)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
        withExtendedLifetime(directory) {}
    }

    /// Stores `text` as a blob and returns its segment.
    static func blob(_ text: String, in blobs: FileBlobStore) async throws -> BlobSegment {
        let writer = try blobs.makeWriter()
        var buffer = ByteBufferAllocator().buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        try await writer.write(buffer)
        let summary = try await writer.finish()
        try await writer.commit()
        return BlobSegment(digest: summary.digest, size: summary.size)
    }

    @Test("Nodes starting together apply each migration exactly once")
    func concurrentMigrations() async throws {
        try await Self.withNodes(4, migrate: false) { nodes, _ in
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for node in nodes { group.addTask { try await node.migrate() } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(applied.filter { !$0.isEmpty } == [PostgresMetadataStore.migrationVersions])
            #expect(applied.filter(\.isEmpty).count == nodes.count - 1)
            // Every node can use the schema, and a later start applies nothing.
            try await nodes[1].createBucket("b")
            #expect(try await nodes[2].bucket("b")?.name == "b")
            #expect(try await nodes[3].migrate() == [])
        }
    }

    @Test("A write on one node is read by the others at once; a revoked token is refused by all")
    func readAfterWriteAcrossNodes() async throws {
        try await Self.withNodes(3) { nodes, blobs in
            try await nodes[0].createBucket("b")
            let segment = try await Self.blob("content", in: blobs)
            try await nodes[1].putObject(
                ObjectInfo(
                    bucket: "b", key: "k", size: segment.size, etag: "e1", headers: ObjectHeaders(), checksum: nil,
                    partCount: nil, createdAt: Date(), segments: [segment]))
            for node in nodes { #expect(try await node.object(bucket: "b", key: "k")?.etag == "e1") }

            try await nodes[2].putEntry(ActionEntry(namespace: "bazel/ac", key: "action", value: segment))
            #expect(try await nodes[0].entry(namespace: "bazel/ac", key: "action")?.value == segment)

            let (token, secret) = try await nodes[0].createToken(namespace: "*", readOnly: false)
            for node in nodes { #expect(try await node.token(secret: secret)?.id == token.id) }
            #expect(try await nodes[1].revokeToken(id: token.id))
            for node in nodes { #expect(try await node.token(secret: secret) == nil) }
        }
    }

    @Test("A multipart upload created on one node takes parts on others and completes on the first")
    func multipartAcrossNodes() async throws {
        try await Self.withNodes(3) { nodes, blobs in
            try await nodes[0].createBucket("b")
            let upload = UploadInfo(
                uploadID: "u", bucket: "b", key: "big", headers: ObjectHeaders(), checksumAlgorithm: nil,
                createdAt: Date())
            try await nodes[0].createUpload(upload)
            let first = try await Self.blob("part one", in: blobs)
            let second = try await Self.blob("part two", in: blobs)
            try await nodes[1].putPart(
                uploadID: "u",
                part: PartInfo(partNumber: 1, segment: first, etag: "p1", checksum: nil, createdAt: Date()))
            try await nodes[2].putPart(
                uploadID: "u",
                part: PartInfo(partNumber: 2, segment: second, etag: "p2", checksum: nil, createdAt: Date()))
            let object = try await nodes[0].completeUpload("u", requested: [(1, "p1"), (2, "p2")], minimumPartSize: 0) {
                upload, parts in
                ObjectInfo(
                    bucket: upload.bucket, key: upload.key, size: parts.reduce(0) { $0 + $1.segment.size },
                    etag: "multi-2", headers: upload.headers, checksum: nil, partCount: parts.count,
                    createdAt: Date(), segments: parts.map(\.segment))
            }
            #expect(object.segments == [first, second])
            #expect(try await nodes[1].object(bucket: "b", key: "big")?.segments == [first, second])
            #expect(try await nodes[2].upload("u") == nil)
        }
    }

    @Test("Two nodes completing one upload at once: one object, and both answer with it")
    func racingCompletions() async throws {
        try await Self.withNodes(2) { nodes, blobs in
            try await nodes[0].createBucket("b")
            try await nodes[0].createUpload(
                UploadInfo(
                    uploadID: "u", bucket: "b", key: "k", headers: ObjectHeaders(), checksumAlgorithm: nil,
                    createdAt: Date()))
            let part = try await Self.blob("only part", in: blobs)
            try await nodes[0].putPart(
                uploadID: "u",
                part: PartInfo(partNumber: 1, segment: part, etag: "p1", checksum: nil, createdAt: Date()))
            // Each node would make its own object (its own ETag); the one that completes second finds the upload
            // completed and answers with the first one's object, as a retried Complete is answered.
            let etags = try await withThrowingTaskGroup(of: String.self) { group in
                for (index, node) in nodes.enumerated() {
                    group.addTask {
                        try await node.completeUpload("u", requested: [(1, "p1")], minimumPartSize: 0) {
                            upload, parts in
                            ObjectInfo(
                                bucket: "b", key: "k", size: part.size, etag: "m-\(index)", headers: ObjectHeaders(),
                                checksum: nil, partCount: 1, createdAt: Date(), segments: [part])
                        }.etag
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(etags).count == 1, "\(etags)")
            #expect(try await nodes[1].object(bucket: "b", key: "k")?.etag == etags.first)
            let versions = try await nodes[1].listObjectVersions(
                bucket: "b", prefix: "", delimiter: nil, keyMarker: nil, versionIDMarker: nil, maxKeys: 10)
            #expect(versions.entries.count == 1)
            #expect(try await nodes[0].upload("u") == nil)
        }
    }

    @Test("Two nodes racing If-None-Match: * on one key: exactly one wins")
    func racingConditionalPuts() async throws {
        try await Self.withNodes(2) { nodes, blobs in
            try await nodes[0].createBucket("b")
            let segment = try await Self.blob("x", in: blobs)
            for round in 0..<10 {
                let results = await withTaskGroup(of: Bool.self) { group in
                    for (index, node) in nodes.enumerated() {
                        group.addTask {
                            do {
                                try await node.putObject(
                                    ObjectInfo(
                                        bucket: "b", key: "k\(round)", size: segment.size, etag: "e\(index)",
                                        headers: ObjectHeaders(), checksum: nil, partCount: nil, createdAt: Date(),
                                        segments: [segment]),
                                    condition: .keyAbsent)
                                return true
                            } catch MetadataError.preconditionFailed {
                                return false
                            } catch {
                                Issue.record("unexpected \(error)")
                                return false
                            }
                        }
                    }
                    return await group.reduce(into: []) { $0.append($1) }
                }
                #expect(results.filter { $0 }.count == 1)
            }
        }
    }

    @Test("Retention runs on one node at a time; a concurrent run on another node does nothing")
    func retentionOnOneNode() async throws {
        try await Self.withNodes(3) { nodes, blobs in
            try await nodes[0].createBucket("b")
            for index in 0..<50 {
                try await nodes[0].registerBlobs(
                    [try await Self.blob("orphan \(index)", in: blobs)], at: Date(timeIntervalSince1970: 1000))
            }
            let policy = {
                var policy = RetentionPolicy()
                policy.gracePeriod = 60
                return policy
            }()
            let reports = try await withThrowingTaskGroup(of: RetentionReport.self) { group in
                for node in nodes {
                    group.addTask { try await RetentionJob(metadata: node, policy: policy, batchSize: 1).run() }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // However the runs overlapped, each orphan was swept exactly once.
            #expect(reports.reduce(0) { $0 + $1.blobsSwept } == 50)
            #expect(reports.contains { !$0.ranElsewhere })
            #expect(try await RetentionJob(metadata: nodes[1], policy: policy).run().blobsSwept == 0)
        }
    }
}
