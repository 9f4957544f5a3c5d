import Foundation
import NIOCore
import Testing

@testable import CairnCore

/// Small blobs made durable by the metadata's WAL instead of their own fsync: readable at once, in the table until
/// a flush writes their files, and rewritten from the table after a crash, even over a torn file.
@Suite("Blob journal")
struct BlobJournalTests {
    /// A data directory with a journaling blob store and the metadata that commits it.
    private static func withJournal(
        _ body: (String, BlobStore, MetadataStore) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-journal-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let blobs = try BlobStore(dataDirectory: directory, journalBytes: 1 << 20)
        let metadata = try MetadataStore(dataDirectory: directory, blobs: blobs)
        try await metadata.createBucket("bucket")
        try await body(directory, blobs, metadata)
    }

    private static func put(_ text: String, key: String, blobs: BlobStore, metadata: MetadataStore) async throws
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

    @Test("A small blob is readable at once, has no file until a flush, and leaves the journal after it")
    func flushWritesFiles() async throws {
        try await Self.withJournal { _, blobs, metadata in
            let digest = try await Self.put("small content", key: "a", blobs: blobs, metadata: metadata)
            #expect(access(blobs.path(for: digest), F_OK) != 0, "no file is written by the upload")
            #expect(blobs.contains(digest))
            #expect(blobs.size(of: digest) == 13)
            #expect(String(buffer: try await blobs.read(digest, range: 0..<13)) == "small content")
            #expect(try await blobs.storedSizes([digest]) == [13])
            var chunks: [String] = []
            try await blobs.readChunks(of: digest, range: 6..<13, chunkSize: 4) { chunks.append(String(buffer: $0)) }
            #expect(chunks == ["cont", "ent"])
            #expect(try metadata.journaledDigests() == [digest.hex], "the object's commit wrote the bytes")

            #expect(try await metadata.flushBlobJournal() == 1)
            #expect(try String(contentsOfFile: blobs.path(for: digest), encoding: .utf8) == "small content")
            #expect(blobs.journal?.held.blobs == 0)
            #expect(try metadata.journaledDigests().isEmpty)
            #expect(String(buffer: try await blobs.read(digest, range: 0..<5)) == "small")
        }
    }

    @Test("A flush records a held blob that no metadata recorded before writing its file")
    func flushRecordsUnrecordedBlobs() async throws {
        try await Self.withJournal { _, blobs, metadata in
            let writer = try blobs.makeWriter()
            try await writer.write(ByteBuffer(string: "no object names this"))
            let digest = try await writer.commit()
            #expect(try metadata.journaledDigests().isEmpty)
            #expect(try await metadata.flushBlobJournal() == 1)
            #expect(try String(contentsOfFile: blobs.path(for: digest), encoding: .utf8) == "no object names this")
            #expect(try metadata.journaledDigests().isEmpty)
            #expect(blobs.journal?.held.blobs == 0)
        }
    }

    @Test("After a crash, opening the metadata rewrites journaled blobs, over a torn file too")
    func recoveryAfterCrash() async throws {
        try await Self.withJournal { directory, blobs, metadata in
            let kept = try await Self.put("acknowledged before the crash", key: "a", blobs: blobs, metadata: metadata)
            let torn = try await Self.put("its file was torn by the crash", key: "b", blobs: blobs, metadata: metadata)
            // A power loss after a flush wrote a file but before it synced can leave a short or zeroed file.
            let tornPath = blobs.path(for: torn)
            try FileManager.default.createDirectory(
                atPath: String(tornPath[..<tornPath.lastIndex(of: "/")!]), withIntermediateDirectories: true)
            try Data([0, 0, 0]).write(to: URL(fileURLWithPath: tornPath))
            // Never flushed, never named by metadata: not durable, and nothing refers to it.
            let writer = try blobs.makeWriter()
            try await writer.write(ByteBuffer(string: "uploaded but never recorded"))
            let unrecorded = try await writer.commit()

            // The process dies here: a new one opens the same data directory.
            let reopened = try MetadataStore(dataDirectory: directory)
            #expect(
                try String(contentsOfFile: blobs.path(for: kept), encoding: .utf8) == "acknowledged before the crash")
            #expect(try String(contentsOfFile: tornPath, encoding: .utf8) == "its file was torn by the crash")
            #expect(access(blobs.path(for: unrecorded), F_OK) != 0)
            #expect(try reopened.journaledDigests().isEmpty)
            let object = try await reopened.object(bucket: "bucket", key: "b")
            #expect(object?.segments.first?.digest == torn)
        }
    }

    @Test("Blobs over 64 KiB, and any once the journal is full, are fsynced as their own files")
    func largeBlobsAndFullJournalUseFiles() async throws {
        try await Self.withJournal { _, blobs, metadata in
            let large = String(repeating: "x", count: BlobJournal.largestBlob + 1)
            let digest = try await Self.put(large, key: "large", blobs: blobs, metadata: metadata)
            #expect(access(blobs.path(for: digest), F_OK) == 0)
            #expect(try metadata.journaledDigests().isEmpty)

            // 1 MiB of journal: sixteen 64 KiB blobs fill it; the seventeenth gets a file of its own.
            var digests: [BlobDigest] = []
            for index in 0..<17 {
                let text = String(format: "%05d", index) + String(repeating: "y", count: BlobJournal.largestBlob - 5)
                digests.append(try await Self.put(text, key: "k\(index)", blobs: blobs, metadata: metadata))
            }
            #expect(blobs.journal?.held.blobs == 16)
            #expect(access(blobs.path(for: digests[16]), F_OK) == 0)
            #expect(try metadata.journaledDigests().count == 16)
            try await metadata.flushBlobJournal()
            #expect(digests.allSatisfy { access(blobs.path(for: $0), F_OK) == 0 })
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
            #expect(try metadata.journaledDigests().isEmpty)
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

    @Test("Flushes run on their own thread, at a lower CPU priority than the threads that answer requests")
    func flushThreadIsNiced() async throws {
        let own = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let flushing = try await BlobStore.flushThread.runIfActive {
            getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        }
        #expect(flushing == 10)
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == own, "only the flush thread is niced")
    }
}
