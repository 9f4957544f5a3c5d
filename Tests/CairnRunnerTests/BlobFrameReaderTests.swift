import CairnCore
import Foundation
import NIOCore
import Testing

@testable import CairnRunner

@Suite("Reading a batch of framed blobs into files")
struct BlobFrameReaderTests {
    let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("frames-\(UUID().uuidString)").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func frames(_ blobs: [[UInt8]]) -> (stream: [UInt8], files: [(digest: BlobDigest, path: String)]) {
        var stream: [UInt8] = []
        var files: [(digest: BlobDigest, path: String)] = []
        for (index, blob) in blobs.enumerated() {
            let digest = BlobDigest(bytes: MessageDigest.hash(.sha256, blob))
            stream += Array("\(digest.hex) \(blob.count)\n".utf8) + blob
            files.append((digest, "\(directory)/file-\(index)"))
        }
        return (stream, files)
    }

    @Test("blobs split across chunks at every kind of boundary land whole in their files", arguments: [1, 7, 64, 4096])
    func chunkBoundaries(chunkSize: Int) async throws {
        let blobs: [[UInt8]] = [Array("hello".utf8), [], (0..<10_000).map { UInt8($0 % 251) }, Array("hello".utf8)]
        let (stream, files) = frames(blobs)
        var reader = BlobFrameReader(files: files)
        for start in stride(from: 0, to: stream.count, by: chunkSize) {
            try reader.consume(ByteBuffer(bytes: stream[start..<min(start + chunkSize, stream.count)]))
        }
        try reader.finish()
        for (blob, file) in zip(blobs, files) {
            #expect(Array(try Data(contentsOf: URL(fileURLWithPath: file.path))) == blob)
        }
    }

    @Test("a stream cut short, a frame for another blob and extra frames are errors")
    func badStreams() async throws {
        let (stream, files) = frames([Array("first".utf8), Array("second".utf8)])
        var truncated = BlobFrameReader(files: files)
        try truncated.consume(ByteBuffer(bytes: stream.dropLast(3)))
        #expect(throws: RunnerError.self) { try truncated.finish() }
        truncated.abandon()

        var swapped = BlobFrameReader(files: files.reversed())
        #expect(throws: RunnerError.self) { try swapped.consume(ByteBuffer(bytes: stream)) }
        swapped.abandon()

        var short = BlobFrameReader(files: Array(files.prefix(1)))
        #expect(throws: RunnerError.self) { try short.consume(ByteBuffer(bytes: stream)) }
        short.abandon()

        var garbage = BlobFrameReader(files: files)
        #expect(throws: RunnerError.self) { try garbage.consume(ByteBuffer(bytes: Array("not a frame\n".utf8))) }
        garbage.abandon()
    }
}
