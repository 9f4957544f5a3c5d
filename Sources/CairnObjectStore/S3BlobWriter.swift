import AsyncHTTPClient
import CairnCore
import NIOCore
import _NIOFileSystem

#if canImport(Glibc)
    import Glibc
#endif

/// Hashes a new blob into a staged local file, then stores it in the object store at ``commit()``: a PUT with its
/// length known, skipped when the store already has the content.
public final class S3BlobWriter: BlobWriter {
    let staged: any BlobWriter
    let store: S3BlobStore
    private var size: Int64 = 0

    init(staged: any BlobWriter, store: S3BlobStore) {
        self.staged = staged
        self.store = store
    }

    public var bytesWritten: Int64 { staged.bytesWritten }

    public func write(_ buffer: ByteBuffer) async throws {
        try await staged.write(buffer)
    }

    public func finish() async throws -> BlobSummary {
        let summary = try await staged.finish()
        size = summary.size
        return summary
    }

    @discardableResult
    public func commit() async throws -> BlobDigest {
        let digest = try await staged.commit()
        do {
            try await upload(digest)
        } catch {
            try? await store.staging.remove(digest)
            throw error
        }
        try await store.staging.remove(digest)
        return digest
    }

    public func discard() async {
        await staged.discard()
    }

    private func upload(_ digest: BlobDigest) async throws {
        if try await store.size(of: digest) != nil { return }
        let path = store.staging.path(for: digest)
        let response: HTTPClientResponse
        do {
            response = try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                try await store.send(
                    .PUT, path: store.location.path(of: digest.hex),
                    headers: [("content-type", "application/octet-stream")],
                    body: .stream(handle.readChunks(chunkLength: .mebibytes(1)), length: .known(size)))
            }
        } catch let error as FileSystemError where error.code == .notFound {
            // Another upload of the same content stored it and removed the shared staged file first.
            guard try await store.size(of: digest) != nil else { throw error }
            return
        }
        let text = try await S3BlobStore.text(response)
        guard (200..<300).contains(response.status.code) else {
            throw store.failure("storing blob \(digest)", response.status, text)
        }
        store.remember(digest)
    }
}
