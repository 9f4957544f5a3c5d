import CairnCore
import Hummingbird
import NIOCore

/// Sends ranges of open files as the next bytes of a response body without copying them through the process
/// (`sendfile`). The server provides one for each request on a connection that can take it (plain HTTP/1.1; not
/// TLS, which must encrypt every byte in the process).
public protocol FileBodySender: Sendable {
    /// Sends `range` of `file` after everything `writer` has written so far. Takes ownership of `file`: it is closed
    /// once its bytes are sent, or once the connection fails.
    func send(_ file: NIOFileHandle, range: Range<Int64>, through writer: inout any ResponseBodyWriter) async throws
}

/// The file sender of the connection whose request the current task answers, for handlers that are not given it
/// (the build-cache routes, which run on Hummingbird's basic request context). Read it while building a response,
/// not in the body closure: the body is written after the handler returns, outside the scope that set it.
public enum ConnectionFileSender {
    @TaskLocal public static var current: (any FileBodySender)?
}

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
