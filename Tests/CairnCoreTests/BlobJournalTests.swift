import Foundation
import NIOCore
import Testing

@testable import CairnCore

/// Small blobs made durable by the metadata's WAL instead of their own fsync, and kept in its `small_blobs` table
/// for good: readable at once, read from the table once memory lets them go, and there after a crash.
@Suite("Blob journal and small blobs")
struct BlobJournalTests {
    /// A data directory with a journaling blob store and the metadata that commits it.
    private static func withJournal(
        _ body: (String, FileBlobStore, SQLiteMetadataStore) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-journal-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blobs = try FileBlobStore(dataDirectory: directory, journalBytes: 1 << 20)
        let metadata = try SQLiteMetadataStore(dataDirectory: directory, blobs: blobs)
        try await metadata.createBucket("bucket")
        try await body(directory, blobs, metadata)
    }

    private static func put(_ text: String, key: String, blobs: FileBlobStore, metadata: SQLiteMetadataStore)
        async throws
        -> BlobDigest
    {
        let writer = try blobs.makeWriter()
        try await writer.write(ByteBuffer(string: text))
        let digest = try await writer.commit()
        let size = Int64(text.utf8.count)
        try await metadata.putObject(
            ObjectInfo(
                bucket: "bucket", key: key, size: size, etag: "e", headers: ObjectHeaders(), checksum: nil,
                partCount: nil,
                createdAt: Date(), segments: [BlobSegment(digest: digest, size: size)]
            )
        )
        return digest
    }

    @Test("A small blob is readable at once, never gets a file, and is read from the database once let go")
    func smallBlobsLiveInTheDatabase() async throws {
        try await Self.withJournal { _, blobs, metadata in
            let digest = try await Self.put("small content", key: "a", blobs: blobs, metadata: metadata)
            #expect(access(blobs.path(for: digest), F_OK) != 0, "no file is written by the upload")
            #expect(blobs.contains(digest))
            #expect(String(buffer: try await blobs.read(digest, range: 0..<13)) == "small content")
            #expect(try metadata.smallBlobDigests() == [digest.hex], "the object's commit wrote the bytes")

            #expect(try await metadata.flushBlobJournal() == 1)
            #expect(blobs.journal?.held.blobs == 0)
            #expect(access(blobs.path(for: digest), F_OK) != 0, "the flush writes no file either")
            #expect(try metadata.smallBlobDigests() == [digest.hex], "the row stays: it is the blob")
            // Neither in memory (this store caches nothing) nor on disk: every read finds the row.
            #expect(String(buffer: try await blobs.read(digest, range: 6..<13)) == "content")
            #expect(try await blobs.storedSizes([digest]) == [13])
            #expect(try await blobs.readableSizes([digest]) == [13])
            #expect(try await blobs.openFile(digest) == nil, "no file to send: it is read in chunks")
            var chunks: [String] = []
            try await blobs.readChunks(of: digest, range: 6..<13, chunkSize: 4) { chunks.append(String(buffer: $0)) }
            #expect(chunks == ["cont", "ent"])
            let batch = try await blobs.read([BlobSegment(digest: digest, size: 13)]) { _ in Array("|".utf8) }
            #expect(String(buffer: batch) == "|small content")
            // Metadata that names it again finds it in the table.
            _ = try await Self.put("small content", key: "b", blobs: blobs, metadata: metadata)
            #expect(try await metadata.object(bucket: "bucket", key: "b")?.segments.first?.digest == digest)
        }
    }

    @Test("A flush records a held blob that no metadata named, and retention sweeps it once nothing does")
    func flushRecordsUnrecordedBlobs() async throws {
        try await Self.withJournal { _, blobs, metadata in
            let writer = try blobs.makeWriter()
            try await writer.write(ByteBuffer(string: "no object names this"))
            let digest = try await writer.commit()
            #expect(try metadata.smallBlobDigests().isEmpty)
            #expect(try await metadata.flushBlobJournal() == 1)
            #expect(try metadata.smallBlobDigests() == [digest.hex])
            #expect(blobs.journal?.held.blobs == 0)
            #expect(String(buffer: try await blobs.read(digest, range: 0..<2)) == "no")

            var policy = RetentionPolicy()
            policy.gracePeriod = 0
            let report = try await RetentionJob(metadata: metadata, policy: policy)
                .run(now: Date().addingTimeInterval(60))
            #expect(report.blobsSwept == 1)
            #expect(try metadata.smallBlobDigests().isEmpty)
        }
    }

    @Test("After a crash, a reopened data directory reads the small blobs from their rows")
    func rowsSurviveACrash() async throws {
        try await Self.withJournal { directory, blobs, metadata in
            let kept = try await Self.put("acknowledged before the crash", key: "a", blobs: blobs, metadata: metadata)
            // Never flushed, never named by metadata: not durable, and nothing refers to it.
            let writer = try blobs.makeWriter()
            try await writer.write(ByteBuffer(string: "uploaded but never recorded"))
            let unrecorded = try await writer.commit()

            // The process dies here: a new one opens the same data directory.
            let reopenedBlobs = try FileBlobStore(dataDirectory: directory)
            let reopened = try SQLiteMetadataStore(dataDirectory: directory, blobs: reopenedBlobs)
            let object = try #require(try await reopened.object(bucket: "bucket", key: "a"))
            #expect(object.segments.first?.digest == kept)
            #expect(
                String(buffer: try await reopenedBlobs.read(kept, range: 0..<Int64(object.size)))
                    == "acknowledged before the crash")
            #expect(try await reopenedBlobs.storedSizes([unrecorded]) == [nil])
        }
    }

    @Test("Opening a directory whose small blobs were flushed to files keeps the rows and removes their files")
    func upgradeRemovesPossiblyTornFiles() async throws {
        try await Self.withJournal { directory, blobs, metadata in
            let digest = try await Self.put("its file was torn by a crash", key: "a", blobs: blobs, metadata: metadata)
            // What the earlier layout could leave: the row still in `blob_journal`, and a file written without
            // fsync beside it, zeroed by a power loss.
            try await metadata.pool.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE blob_journal (digest TEXT PRIMARY KEY NOT NULL, content BLOB NOT NULL) WITHOUT ROWID;
                        INSERT INTO blob_journal SELECT digest, content FROM small_blobs;
                        DROP TABLE small_blobs;
                        """)
                try db.execute(
                    sql: "DELETE FROM grdb_migrations WHERE identifier = ?",
                    arguments: [SQLiteMetadataStore.smallBlobsMigration])
            }
            let path = blobs.path(for: digest)
            try FileManager.default.createDirectory(
                atPath: String(path[..<path.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            try Data([0, 0, 0]).write(to: URL(fileURLWithPath: path))

            let reopenedBlobs = try FileBlobStore(dataDirectory: directory)
            let reopened = try SQLiteMetadataStore(dataDirectory: directory, blobs: reopenedBlobs)
            #expect(access(path, F_OK) != 0, "the possibly torn file is gone")
            #expect(try reopened.smallBlobDigests() == [digest.hex])
            #expect(String(buffer: try await reopenedBlobs.read(digest, range: 0..<8)) == "its file")
        }
    }

    @Test("Blobs over 64 KiB, and any once the journal is full, are fsynced as their own files")
    func largeBlobsAndFullJournalUseFiles() async throws {
        try await Self.withJournal { _, blobs, metadata in
            let large = String(repeating: "x", count: BlobJournal.largestBlob + 1)
            let digest = try await Self.put(large, key: "large", blobs: blobs, metadata: metadata)
            #expect(access(blobs.path(for: digest), F_OK) == 0)
            #expect(try metadata.smallBlobDigests().isEmpty)

            // 1 MiB of journal: sixteen 64 KiB blobs fill it; the seventeenth gets a file of its own.
            var digests: [BlobDigest] = []
            for index in 0..<17 {
                let text = String(format: "%05d", index) + String(repeating: "y", count: BlobJournal.largestBlob - 5)
                digests.append(try await Self.put(text, key: "k\(index)", blobs: blobs, metadata: metadata))
            }
            #expect(blobs.journal?.held.blobs == 16)
            #expect(access(blobs.path(for: digests[16]), F_OK) == 0)
            #expect(try metadata.smallBlobDigests().count == 16)
            #expect(try await metadata.flushBlobJournal() == 16)
            #expect(blobs.journal?.held.blobs == 0, "the journal has room again")
            #expect(digests.dropLast().allSatisfy { access(blobs.path(for: $0), F_OK) != 0 })
            let last = try await blobs.read(digests[16], range: 0..<5)
            #expect(String(buffer: last) == "00016")
        }
    }

    @Test("Retention that sweeps a held blob drops it from memory and from the table")
    func sweepForgetsHeldBlobs() async throws {
        try await Self.withJournal { _, blobs, metadata in
            let digest = try await Self.put("short-lived", key: "a", blobs: blobs, metadata: metadata)
            try await metadata.deleteObject(bucket: "bucket", key: "a")
            var policy = RetentionPolicy()
            policy.gracePeriod = 0
            let report = try await RetentionJob(metadata: metadata, policy: policy)
                .run(now: Date().addingTimeInterval(60))
            #expect(report.blobsSwept == 1)
            #expect(!blobs.contains(digest))
            #expect(try metadata.smallBlobDigests().isEmpty)
            #expect(try await metadata.flushBlobJournal() == 0)
            #expect(access(blobs.path(for: digest), F_OK) != 0)
        }
    }

    @Test("Every metadata commit is synced: the writer runs with synchronous = FULL, also after writes")
    func commitsAreSynced() async throws {
        try await Self.withJournal { _, blobs, metadata in
            // 2 is FULL; GRDB's pool would leave its writer at NORMAL (1), which syncs the WAL only at checkpoints.
            #expect(try await metadata.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
            _ = try await Self.put("durable", key: "k", blobs: blobs, metadata: metadata)
            #expect(try await metadata.pool.write { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)
        }
    }
}
