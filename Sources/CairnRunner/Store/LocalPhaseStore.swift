import CairnCore
import Foundation
import NIOCore
import _NIOFileSystem

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded store: a data directory opened directly with CairnCore, the same layout `cairn serve` uses.
///
/// It does not take the server's lock: SQLite (WAL) and the blob store's write-then-link protocol are safe to
/// share with a server running on the same directory.
public struct LocalPhaseStore: PhaseStore {
    public let dataDirectory: String
    let blobs: any BlobStore
    let metadata: any MetadataStore

    /// The default data directory: `$CAIRN_CACHE_DIR`, else `$XDG_CACHE_HOME/cairn`, else `~/.cache/cairn`.
    public static func defaultDirectory(environment: [String: String]) -> String {
        if let directory = environment["CAIRN_CACHE_DIR"], !directory.isEmpty { return directory }
        if let cache = environment["XDG_CACHE_HOME"], !cache.isEmpty { return cache + "/cairn" }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/cairn"
    }

    public init(dataDirectory: String) throws {
        self.dataDirectory = dataDirectory
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        self.blobs = try FileBlobStore(dataDirectory: dataDirectory)
        self.metadata = try SQLiteMetadataStore(dataDirectory: dataDirectory)
    }

    public var description: String { "local store at \(dataDirectory)" }

    public func missing(_ digests: [BlobDigest]) async throws -> Set<BlobDigest> {
        Set(digests.filter { !blobs.contains($0) })
    }

    public func upload(file path: String, digest: BlobDigest) async throws {
        let summary = try await write(file: path)
        guard summary.digest == digest else {
            throw RunnerError("\(path) changed while it was being stored; run the build again")
        }
    }

    private func write(file path: String) async throws -> BlobSummary {
        let writer = try blobs.makeWriter()
        let progress = TransferProgress.current
        do {
            try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                for try await chunk in handle.readChunks(chunkLength: .mebibytes(1)) {
                    try await writer.write(chunk)
                    progress?.transferred(bytes: chunk.readableBytes)
                }
            }
            let summary = try await writer.finish()
            try await writer.commit()
            try await metadata.registerBlobs([BlobSegment(digest: summary.digest, size: summary.size)])
            return summary
        } catch {
            await writer.discard()
            throw error
        }
    }

    public func upload(bytes: [UInt8]) async throws -> BlobSegment {
        let writer = try blobs.makeWriter()
        try await writer.write(ByteBuffer(bytes: bytes))
        let digest = try await writer.commit()
        let segment = BlobSegment(digest: digest, size: Int64(bytes.count))
        try await metadata.registerBlobs([segment])
        return segment
    }

    public func download(_ digest: BlobDigest, to path: String) async throws {
        let descriptor = try createForWriting(path)
        defer { close(descriptor) }
        let progress = TransferProgress.current
        try await blobs.readChunks(of: digest, range: 0..<Int64.max) { chunk in
            try chunk.withUnsafeReadableBytes { try writeFully(descriptor, $0, path: path) }
            progress?.transferred(bytes: chunk.readableBytes)
        }
    }

    public func read(_ digest: BlobDigest) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        try await blobs.readChunks(of: digest, range: 0..<Int64.max) { chunk in
            bytes += chunk.readableBytesView
        }
        return bytes
    }

    public func putEntry(_ entry: ActionEntry) async throws {
        try await metadata.putEntry(entry)
    }

    public func entry(namespace: String, key: String) async throws -> ActionEntry? {
        guard let entry = try await metadata.entry(namespace: namespace, key: key) else { return nil }
        guard blobs.contains(entry.value.digest), entry.references.allSatisfy(blobs.contains) else { return nil }
        try await metadata.recordEntryAccess([(namespace, key, Date())])
        return entry
    }

    public func putObject(
        bucket: String, key: String, file: String, metadata userMetadata: [String: String]
    ) async throws -> String {
        try await createBucketIfMissing(bucket)
        let summary = try await write(file: file)
        try await metadata.putObject(
            object(bucket: bucket, key: key, summary: summary, metadata: userMetadata), condition: .none)
        return "s3://\(bucket)/\(key)"
    }

    public func createObject(bucket: String, key: String, bytes: [UInt8]) async throws -> Bool {
        try await createBucketIfMissing(bucket)
        let writer = try blobs.makeWriter()
        let summary: BlobSummary
        do {
            try await writer.write(ByteBuffer(bytes: bytes))
            summary = try await writer.finish()
            try await writer.commit()
            try await metadata.registerBlobs([BlobSegment(digest: summary.digest, size: summary.size)])
        } catch {
            await writer.discard()
            throw error
        }
        do {
            try await metadata.putObject(
                object(bucket: bucket, key: key, summary: summary, metadata: [:]), condition: .keyAbsent)
            return true
        } catch MetadataError.preconditionFailed {
            return false
        }
    }

    private func createBucketIfMissing(_ bucket: String) async throws {
        guard try await metadata.bucket(bucket) == nil else { return }
        do {
            try await metadata.createBucket(bucket)
        } catch MetadataError.bucketAlreadyExists {
            // Another build created it first.
        }
    }

    private func object(bucket: String, key: String, summary: BlobSummary, metadata: [String: String]) -> ObjectInfo {
        ObjectInfo(
            bucket: bucket, key: key, size: summary.size, etag: summary.md5.hexString,
            headers: ObjectHeaders(contentType: ContentType.guess(key), userMetadata: metadata), checksum: nil,
            partCount: nil, createdAt: Date(), segments: [BlobSegment(digest: summary.digest, size: summary.size)]
        )
    }
}
