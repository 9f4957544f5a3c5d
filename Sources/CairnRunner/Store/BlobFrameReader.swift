import CairnCore
import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// Writes the response of `POST /_cairn/cas/read` to files: blobs in the order asked for, each framed as
/// `<sha256 hex> <size>\n` and its bytes. Chunks arrive at any boundary; a frame for another digest than the one
/// expected next, or a stream that ends early, is an error.
struct BlobFrameReader {
    private let files: [(digest: BlobDigest, path: String)]
    private var next = 0
    private var header: [UInt8] = []
    private var descriptor: Int32 = -1
    private var remaining: Int64 = 0

    init(files: [(digest: BlobDigest, path: String)]) {
        self.files = files
    }

    mutating func consume(_ chunk: ByteBuffer) throws {
        try chunk.withUnsafeReadableBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                if descriptor >= 0 {
                    let count = Int(min(Int64(bytes.count - offset), remaining))
                    try write(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
                    offset += count
                    remaining -= Int64(count)
                    if remaining == 0 { try closeFile() }
                    continue
                }
                guard next < files.count else {
                    throw RunnerError("the store sent more than the \(files.count) blobs asked for")
                }
                let byte = bytes[offset]
                offset += 1
                if byte != UInt8(ascii: "\n") {
                    header.append(byte)
                    guard header.count <= 96 else { throw RunnerError("the store sent a malformed blob frame") }
                    continue
                }
                try startFile()
            }
        }
    }

    /// Checks that every blob arrived whole.
    mutating func finish() throws {
        if descriptor >= 0 && remaining == 0 { try closeFile() }
        guard next == files.count, descriptor < 0, header.isEmpty else {
            throw RunnerError("the store's answer ended after \(next) of \(files.count) blobs")
        }
    }

    /// Closes a file left open by a failed download (the caller removes the files).
    mutating func abandon() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    private mutating func startFile() throws {
        let text = String(decoding: header, as: UTF8.self)
        header.removeAll(keepingCapacity: true)
        let parts = text.split(separator: " ")
        let expected = files[next]
        guard parts.count == 2, let size = Int64(parts[1]), size >= 0, BlobDigest(hex: String(parts[0])) != nil
        else { throw RunnerError("the store sent a malformed blob frame: \(text.prefix(100))") }
        guard parts[0] == expected.digest.hex else {
            throw RunnerError("the store sent blob \(parts[0]) where \(expected.digest) was expected")
        }
        descriptor = try createForWriting(expected.path)
        remaining = size
        if size == 0 { try closeFile() }
    }

    private mutating func closeFile() throws {
        let path = files[next].path
        let result = close(descriptor)
        descriptor = -1
        next += 1
        if result != 0 { throw RunnerError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    private func write(_ bytes: UnsafeRawBufferPointer) throws {
        try writeFully(descriptor, bytes, path: files[next].path)
    }
}
