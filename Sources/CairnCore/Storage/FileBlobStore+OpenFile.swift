import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// A blob's file, open for reading: what a response sends straight from the page cache (`sendfile`) instead of
/// reading it through the process.
public struct OpenBlobFile: Sendable {
    /// The open file; the receiver owns it and must close it.
    public let handle: NIOFileHandle
    /// The file's size when it was opened. A blob never changes, and an open file outlives its removal.
    public let size: Int64

    /// An open file of `size` bytes; the receiver of this value owns `handle`.
    public init(handle: NIOFileHandle, size: Int64) {
        self.handle = handle
        self.size = size
    }
}

extension FileBlobStore {
    /// Opens a blob's file; nil when the blob is held in memory (see ``BlobJournal``) or lives in the metadata
    /// database (see ``SmallBlobTable``), where ``readChunks(of:range:chunkSize:_:)`` serves it. A blob that is
    /// nowhere is ``BlobStoreError/Code/missingBlob``.
    public func openFile(_ digest: BlobDigest) async throws -> OpenBlobFile? {
        if inMemory(digest) != nil { return nil }
        let path = self.path(for: digest)
        let table = smallBlobs
        return try await threadPool.runIfActive { () -> OpenBlobFile? in
            guard let descriptor = try Self.openIfPresent(path) else {
                if try table.sizes(CollectionOfOne(digest))[digest] != nil { return nil }
                throw Self.missing(digest, path: path)
            }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else {
                let error = BlobStoreError.system("stat", path: path, errno: errno)
                close(descriptor)
                throw error
            }
            return OpenBlobFile(
                handle: NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor), size: Int64(info.st_size))
        }
    }
}
