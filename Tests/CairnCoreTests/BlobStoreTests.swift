import CairnCore
import Foundation
import NIOCore
import Testing

/// Tests for ``BlobStore`` and ``BlobWriter`` in a temporary data directory.
///
/// The SHA-256 and MD5 of "hello world" were computed with Python's `hashlib`.
@Suite("Blob store")
struct BlobStoreTests {
    static let helloSHA256 = "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    static let helloMD5 = "5eb63bbbe01eeed093cb22bb8f5acdc3"

    /// Runs `body` with a blob store in a new temporary directory, which is removed afterwards.
    static func withStore(_ body: (FileBlobStore, String) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("cairn-blobs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await body(try FileBlobStore(dataDirectory: directory), directory)
    }

    /// Every regular file under `directory`, as paths relative to it.
    static func files(under directory: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else { return [] }
        var files: [String] = []
        while let name = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                files.append(name)
            }
        }
        return files.sorted()
    }

    static func contents(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Deterministic bytes that are not all alike.
    static func pattern(_ count: Int, seed: UInt32 = 1) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 1_103_515_245 &+ 12_345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
    }

    /// Writes `pieces` through a new writer and commits it.
    static func store(
        _ pieces: [[UInt8]], in store: FileBlobStore, checksum: ChecksumAlgorithm? = nil
    ) async throws -> BlobSummary {
        let writer = try store.makeWriter(checksum: checksum)
        for piece in pieces { try await writer.write(ByteBuffer(bytes: piece)) }
        let summary = try await writer.finish()
        let digest = try await writer.commit()
        #expect(digest == summary.digest)
        return summary
    }

    @Test("A blob written in several buffers is stored under its SHA-256, with its MD5")
    func writeAndCommit() async throws {
        try await Self.withStore { store, directory in
            let writer = try store.makeWriter()
            for piece in ["hel", "lo", " ", "", "world"] {
                try await writer.write(ByteBuffer(string: piece))
            }
            #expect(writer.bytesWritten == 11)
            let summary = try await writer.finish()
            #expect(summary.digest.hex == Self.helloSHA256)
            #expect(summary.sha256.hexString == Self.helloSHA256)
            #expect(summary.md5.hexString == Self.helloMD5)
            #expect(summary.size == 11)
            #expect(summary.checksum == nil)
            #expect(!store.contains(summary.digest))

            let digest = try await writer.commit()
            #expect(digest == summary.digest)
            #expect(store.contains(digest))
            let path = store.path(for: digest)
            #expect(path == "\(directory)/blobs/sha256/b9/4d/\(Self.helloSHA256)")
            #expect(try Self.contents(path) == Array("hello world".utf8))
            #expect(Self.files(under: directory + "/tmp").isEmpty)
            #expect(Self.files(under: directory + "/blobs") == ["sha256/b9/4d/\(Self.helloSHA256)"])
        }
    }

    @Test("Large writes that cross the 1 MiB batches keep every byte in order")
    func largeWrite() async throws {
        try await Self.withStore { store, _ in
            let content = Self.pattern(3 * 1024 * 1024 + 12_345)
            // Small pieces, one piece larger than a batch, and pieces that straddle batch boundaries.
            let cuts = [0, 1, 100, 70_000, 1_048_576, 2_500_000, 2_500_001, content.count]
            let pieces = zip(cuts, cuts.dropFirst()).map { Array(content[$0..<$1]) }
            let summary = try await Self.store(pieces, in: store)
            #expect(summary.size == Int64(content.count))
            #expect(summary.digest.hex == MessageDigest.hash(.sha256, content).hexString)
            #expect(summary.md5 == MessageDigest.hash(.md5, content))
            #expect(try Self.contents(store.path(for: summary.digest)) == content)
        }
    }

    @Test(
        "An upload past the background-sync interval keeps every byte; one discarded or released mid-way leaves no file"
    )
    func syncedInTheBackground() async throws {
        try await Self.withStore { store, directory in
            // 130 MiB in 1 MiB buffers, each filled with its own byte: two background syncs and a final fsync.
            let pieces = (0..<130).map { index in [UInt8](repeating: UInt8(index % 251), count: 1 << 20) }
            let content: [UInt8] = pieces.flatMap { $0 } + [7, 7, 7]
            let summary = try await Self.store(pieces + [[7, 7, 7]], in: store)
            #expect(summary.size == Int64(content.count))
            #expect(summary.digest.hex == MessageDigest.hash(.sha256, content).hexString)
            #expect(summary.md5 == MessageDigest.hash(.md5, content))
            #expect(try Self.contents(store.path(for: summary.digest)) == content)

            let discarded = try store.makeWriter()
            for piece in pieces.prefix(100) { try await discarded.write(ByteBuffer(bytes: piece)) }
            await discarded.discard()
            #expect(Self.files(under: directory + "/tmp").isEmpty)

            do {
                let released = try store.makeWriter()
                for piece in pieces.prefix(100) { try await released.write(ByteBuffer(bytes: piece)) }
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while !Self.files(under: directory + "/tmp").isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(Self.files(under: directory + "/tmp").isEmpty)
            #expect(Self.files(under: directory + "/blobs").count == 1)
        }
    }

    @Test("A body longer than its declared size grows its buffer and keeps every byte")
    func moreThanExpected() async throws {
        try await Self.withStore { store, _ in
            let bytes = Self.pattern(3 << 20, seed: 9)
            let writer = try store.makeWriter(expectedSize: 10)
            for start in stride(from: 0, to: bytes.count, by: 100_000) {
                try await writer.write(ByteBuffer(bytes: bytes[start..<min(start + 100_000, bytes.count)]))
            }
            let digest = try await writer.commit()
            #expect(digest.hex == MessageDigest.hash(.sha256, bytes).hexString)
            #expect(try Self.contents(store.path(for: digest)) == bytes)
        }
    }

    @Test("A single buffer larger than a batch is written directly")
    func oneLargeBuffer() async throws {
        try await Self.withStore { store, _ in
            let content = Self.pattern(2 * 1024 * 1024, seed: 7)
            let summary = try await Self.store([content], in: store)
            #expect(try Self.contents(store.path(for: summary.digest)) == content)
            #expect(summary.md5 == MessageDigest.hash(.md5, content))
        }
    }

    @Test("Empty content is the well-known empty digest")
    func emptyBlob() async throws {
        try await Self.withStore { store, _ in
            let summary = try await Self.store([], in: store)
            #expect(summary.digest == BlobDigest.empty)
            #expect(summary.md5.hexString == "d41d8cd98f00b204e9800998ecf8427e")
            #expect(summary.size == 0)
            #expect(try Self.contents(store.path(for: summary.digest)).isEmpty)
        }
    }

    @Test("Writing identical content again gives the same digest and still one file")
    func deduplication() async throws {
        try await Self.withStore { store, directory in
            let first = try await Self.store([Array("hello world".utf8)], in: store)
            let second = try await Self.store([Array("hello ".utf8), Array("world".utf8)], in: store)
            #expect(first.digest == second.digest)
            #expect(first.md5 == second.md5)
            #expect(Self.files(under: directory + "/blobs") == ["sha256/b9/4d/\(Self.helloSHA256)"])
            #expect(Self.files(under: directory + "/tmp").isEmpty)
            #expect(try Self.contents(store.path(for: first.digest)) == Array("hello world".utf8))

            let other = try await Self.store([Array("hello world!".utf8)], in: store)
            #expect(other.digest != first.digest)
            #expect(Self.files(under: directory + "/blobs").count == 2)
        }
    }

    @Test("discard() removes the temp file and stores nothing")
    func discard() async throws {
        try await Self.withStore { store, directory in
            // The temp file is created by the first batch written out (a small body waits for finish()).
            let writer = try store.makeWriter()
            try await writer.write(ByteBuffer(string: "never stored"))
            #expect(Self.files(under: directory + "/tmp").isEmpty)
            // Two full batches: handing over the second waits for the first, whose job created the file.
            try await writer.write(ByteBuffer(repeating: 0x61, count: 2 << 20))
            #expect(Self.files(under: directory + "/tmp").count == 1)
            await writer.discard()
            #expect(Self.files(under: directory + "/tmp").isEmpty)
            #expect(Self.files(under: directory + "/blobs").isEmpty)
            // A second discard is harmless.
            await writer.discard()

            // So is discarding after finish(), before commit().
            let finished = try store.makeWriter()
            try await finished.write(ByteBuffer(string: "finished"))
            let summary = try await finished.finish()
            await finished.discard()
            #expect(!store.contains(summary.digest))
            #expect(Self.files(under: directory + "/tmp").isEmpty)
        }
    }

    @Test("A writer released without commit or discard removes its temp file")
    func releasedWriter() async throws {
        try await Self.withStore { store, directory in
            do {
                let writer = try store.makeWriter()
                try await writer.write(ByteBuffer(repeating: 0x61, count: (2 << 20) + 9))
                #expect(Self.files(under: directory + "/tmp").count == 1)
            }
            // The file goes when the last batch job still holding it finishes: at once, or a moment later.
            let deadline = ContinuousClock.now + .seconds(30)
            while !Self.files(under: directory + "/tmp").isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(Self.files(under: directory + "/tmp").isEmpty)
        }
    }

    @Test("removeTemporaryFiles() removes leftovers in tmp/ and counts them")
    func removeTemporaryFiles() async throws {
        try await Self.withStore { store, directory in
            for name in ["upload-dead01", "upload-dead02", "stray"] {
                #expect(FileManager.default.createFile(atPath: "\(directory)/tmp/\(name)", contents: Data([1, 2, 3])))
            }
            let kept = try await Self.store([Array("keep me".utf8)], in: store)
            #expect(try store.removeTemporaryFiles() == 3)
            #expect(Self.files(under: directory + "/tmp").isEmpty)
            #expect(store.contains(kept.digest))
            #expect(try store.removeTemporaryFiles() == 0)
        }
    }

    @Test("Opening a store again keeps its blobs")
    func reopen() async throws {
        try await Self.withStore { store, directory in
            let summary = try await Self.store([Array("hello world".utf8)], in: store)
            let reopened = try FileBlobStore(dataDirectory: directory)
            #expect(reopened.contains(summary.digest))
            #expect(reopened.path(for: summary.digest) == store.path(for: summary.digest))
        }
    }

    @Test("readChunks returns exactly the bytes of a sub-range")
    func readSubRange() async throws {
        try await Self.withStore { store, _ in
            let content = Self.pattern(1_000_003, seed: 3)
            let summary = try await Self.store([content], in: store)
            let ranges: [Range<Int64>] = [
                0..<Int64(content.count), 0..<1, 1_000..<300_000, 262_143..<262_145, 999_999..<1_000_003,
                500_000..<500_000,
            ]
            for range in ranges {
                for chunkSize in [4_096, 256 * 1024, 7] where chunkSize > 7 || range.count < 100_000 {
                    var read: [UInt8] = []
                    var largest = 0
                    try await store.readChunks(of: summary.digest, range: range, chunkSize: chunkSize) { buffer in
                        largest = max(largest, buffer.readableBytes)
                        read += buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
                    }
                    #expect(read == Array(content[Int(range.lowerBound)..<Int(range.upperBound)]), "\(range)")
                    #expect(largest <= chunkSize)
                }
            }
        }
    }

    @Test("a range past the end stops at the end of the blob; read() of such a range is an error")
    func readPastTheEnd() async throws {
        try await Self.withStore { store, _ in
            let content = Self.pattern(300_000, seed: 4)
            let summary = try await Self.store([content], in: store)
            var read: [UInt8] = []
            try await store.readChunks(of: summary.digest, range: 0..<Int64.max) { buffer in
                read += buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
            }
            #expect(read == content)
            await #expect(throws: BlobStoreError.self) {
                _ = try await store.read(summary.digest, range: 0..<300_001)
            }
            let whole = try await store.read(summary.digest, range: 10..<20)
            #expect(Array(whole.readableBytesView) == Array(content[10..<20]))
        }
    }

    @Test("readChunks of a missing blob throws missingBlob")
    func readMissingBlob() async throws {
        try await Self.withStore { store, _ in
            let digest = BlobDigest(bytes: MessageDigest.hash(.sha256, Array("absent".utf8)))
            do {
                try await store.readChunks(of: digest, range: 0..<10) { _ in }
                Issue.record("reading a missing blob succeeded")
            } catch let error as BlobStoreError {
                #expect(error.code == .missingBlob)
            }
        }
    }

    @Test(
        "openFile() gives a blob's file and size, outliving its removal; nil for a held blob; missingBlob when absent")
    func openFile() async throws {
        try await Self.withStore { store, _ in
            let content = Self.pattern(2_000_000, seed: 6)
            let summary = try await Self.store([content], in: store)
            let file = try #require(try await store.openFile(summary.digest))
            defer { try? file.handle.close() }
            #expect(file.size == Int64(content.count))
            // Retention may remove the blob while a download sends it: the open file still reads whole.
            try await store.remove(summary.digest)
            var read = [UInt8](repeating: 0, count: content.count)
            let count = try file.handle.withUnsafeFileDescriptor { descriptor in
                read.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, content.count, 0) }
            }
            #expect(count == content.count && read == content)

            let absent = BlobDigest(bytes: MessageDigest.hash(.sha256, Array("absent".utf8)))
            do {
                _ = try await store.openFile(absent)
                Issue.record("opening a missing blob succeeded")
            } catch let error as BlobStoreError {
                #expect(error.code == .missingBlob)
            }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-held-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let journaled = try FileBlobStore(dataDirectory: directory.path, journalBytes: 1 << 20)
        let small = try await Self.store([Array("held in memory".utf8)], in: journaled)
        #expect(try await journaled.openFile(small.digest) == nil)
    }

    @Test("remove() deletes a blob's file and tolerates a missing one")
    func remove() async throws {
        try await Self.withStore { store, _ in
            let summary = try await Self.store([Array("short-lived".utf8)], in: store)
            try await store.remove(summary.digest)
            #expect(!store.contains(summary.digest))
            try await store.remove(summary.digest)
        }
    }

    @Test(
        "A checksum computed by the writer equals the one computed in memory",
        arguments: ChecksumAlgorithm.allCases
    )
    func writerChecksum(_ algorithm: ChecksumAlgorithm) async throws {
        try await Self.withStore { store, _ in
            let content = Self.pattern(1_500_000, seed: 11)
            let cuts = [0, 3, 65_536, 1_048_577, content.count]
            let pieces = zip(cuts, cuts.dropFirst()).map { Array(content[$0..<$1]) }
            let summary = try await Self.store(pieces, in: store, checksum: algorithm)
            #expect(summary.checksum?.algorithm == algorithm)
            #expect(summary.checksum?.value == algorithm.checksum(of: content))
        }
    }

    @Test("The writer's CRC32C of \"123456789\" is the catalogue check value")
    func writerCRC32CCheckValue() async throws {
        try await Self.withStore { store, _ in
            let summary = try await Self.store(
                [Array("1234".utf8), Array("56789".utf8)], in: store, checksum: .crc32c
            )
            // 0xE3069283, big-endian, in base64.
            #expect(summary.checksum?.value == "4waSgw==")
            #expect(ChecksumAlgorithm.crc32c.checksum(of: Array("123456789".utf8)) == "4waSgw==")
        }
    }

    @Test("BlobDigest accepts 64 hex characters only")
    func blobDigestValidation() {
        #expect(BlobDigest(hex: Self.helloSHA256)?.hex == Self.helloSHA256)
        #expect(BlobDigest(hex: Self.helloSHA256.uppercased())?.hex == Self.helloSHA256)
        #expect(BlobDigest(hex: String(Self.helloSHA256.dropLast())) == nil)
        #expect(BlobDigest(hex: "../" + String(Self.helloSHA256.dropFirst(3))) == nil)
        #expect(BlobDigest(hex: String(repeating: "g", count: 64)) == nil)
    }
}
