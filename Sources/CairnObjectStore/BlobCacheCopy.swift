import CairnCore
import NIOCore
import _NIOFileSystem

/// A copy into a ``BlobDiskCache`` of a blob that is being read whole from the object store: the read hands it each
/// chunk as it passes, and the copy is kept only if every byte arrived.
///
/// A copy never fails the read it rides on: a write that fails (a full disk) abandons the copy.
final class BlobCacheCopy {
    private let cache: BlobDiskCache
    private var handle: WriteFileHandle?
    private let digest: BlobDigest
    private let size: Int64
    private let generation: UInt64
    private var written: Int64 = 0

    init(cache: BlobDiskCache, handle: WriteFileHandle, digest: BlobDigest, size: Int64, generation: UInt64) {
        self.cache = cache
        self.handle = handle
        self.digest = digest
        self.size = size
        self.generation = generation
    }

    /// Appends the next bytes of the blob.
    func write(_ chunk: ByteBuffer) async {
        guard let handle else { return }
        do {
            written += try await handle.write(contentsOf: chunk, toAbsoluteOffset: written)
        } catch {
            await abandon()
        }
    }

    /// Keeps the file when it holds the whole blob, else throws it away.
    func finish() async {
        guard let handle else { return }
        guard written == size else { return await abandon() }
        self.handle = nil
        do {
            try await handle.close(makeChangesVisible: true)
        } catch {
            return
        }
        await cache.keep(digest, size: size, since: generation)
    }

    /// Throws the partial file away.
    func abandon() async {
        guard let handle else { return }
        self.handle = nil
        try? await handle.close(makeChangesVisible: false)
    }
}
