import CairnCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Writes the response of `POST /_cairn/cas/read` to files as it arrives: ``BlobFrameParser`` reads the frames,
/// this opens, writes and closes the file of each blob, and counts them in `progress`.
struct BlobFrameReader {
    private let paths: [String]
    private let progress: TransferProgress?
    private var parser: BlobFrameParser
    private var descriptor: Int32 = -1
    /// The file of the blob being written.
    private var current = 0

    init(files: [(digest: BlobDigest, path: String)], progress: TransferProgress? = nil) {
        self.paths = files.map(\.path)
        self.progress = progress
        self.parser = BlobFrameParser(expecting: files.map(\.digest))
    }

    mutating func consume(_ chunk: ByteBuffer) throws {
        var chunk = chunk
        do {
            while let action = try parser.next(&chunk) {
                switch action {
                case .begin(let index, _):
                    current = index
                    descriptor = try createForWriting(paths[index])
                case .content(let bytes):
                    try bytes.withUnsafeReadableBytes { try writeFully(descriptor, $0, path: paths[current]) }
                    progress?.transferred(bytes: bytes.readableBytes)
                case .end:
                    try closeFile()
                    progress?.completedFile()
                }
            }
        } catch let error as BlobFrameError {
            throw RunnerError(error.description)
        }
    }

    /// Checks that every blob arrived whole.
    mutating func finish() throws {
        do {
            try parser.finish()
        } catch {
            throw RunnerError("\(error)")
        }
    }

    /// Closes a file left open by a failed download (the caller removes the files).
    mutating func abandon() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    private mutating func closeFile() throws {
        let result = close(descriptor)
        descriptor = -1
        if result != 0 { throw RunnerError("cannot write \(paths[current]): \(String(cString: strerror(errno)))") }
    }
}
