import CairnCore
import HummingbirdCore
import NIOCore

extension BlobStore {
    /// Below this many bytes a range is read and written as a buffer: opening the file and handing it to the
    /// connection costs more than copying the bytes.
    static var sendfileMinimum: Int64 { 1 << 20 }

    /// Writes `range` (offsets within the blob) of a blob as the next bytes of a response body: straight from its
    /// file when `sender` can and the range is large, else read in chunks. Throws, having sent fewer bytes, when the
    /// blob's file is shorter than `range` needs: a response that stopped early and still ended normally would
    /// leave its client waiting for the rest.
    public func send(
        _ digest: BlobDigest, range: Range<Int64>, sender: (any FileBodySender)?,
        through writer: inout any ResponseBodyWriter
    ) async throws {
        if let sender, range.count >= Self.sendfileMinimum, let file = try await openFile(digest) {
            // A file shorter than its metadata says is damage: the response fails (its connection is closed)
            // rather than promise bytes the file does not have.
            guard range.upperBound <= file.size else {
                try? file.handle.close()
                throw Self.shortBlob(digest, size: file.size, range: range)
            }
            try await sender.send(file.handle, range: range, through: &writer)
            return
        }
        var sent: Int64 = 0
        try await readChunks(of: digest, range: range) { chunk in
            sent += Int64(chunk.readableBytes)
            try await writer.write(chunk)
        }
        guard sent == range.count else { throw Self.shortBlob(digest, size: range.lowerBound + sent, range: range) }
    }

    private static func shortBlob(_ digest: BlobDigest, size: Int64, range: Range<Int64>) -> BlobStoreError {
        BlobStoreError(
            code: .io, message: "blob \(digest) is \(size) bytes on disk; \(range.upperBound) were expected")
    }
}
