import CairnCore
import NIOCore
import Testing

@Suite("Blob frames: the server's encoder and the runner's incremental parser")
struct BlobFrameParserTests {
    static func blob(_ bytes: [UInt8]) -> (segment: BlobSegment, content: [UInt8]) {
        (BlobSegment(digest: BlobDigest(bytes: MessageDigest.hash(.sha256, bytes)), size: Int64(bytes.count)), bytes)
    }

    static let blobs = [
        blob(Array("hello".utf8)), blob([]), blob((0..<10_000).map { UInt8($0 % 251) }), blob(Array("hello".utf8)),
        blob([]),
    ]

    /// The stream the server sends for `blobs`.
    static func stream(_ blobs: [(segment: BlobSegment, content: [UInt8])]) -> [UInt8] {
        blobs.flatMap { BlobFrame.header(for: $0.segment) + $0.content }
    }

    /// Feeds `stream` in chunks of `chunkSize` and returns each blob's content, by the index the parser names.
    static func parse(_ stream: [UInt8], expecting digests: [BlobDigest], chunkSize: Int) throws -> [[UInt8]] {
        var parser = BlobFrameParser(expecting: digests)
        var contents: [[UInt8]] = []
        var open: Int?
        for start in stride(from: 0, to: stream.count, by: chunkSize) {
            var chunk = ByteBuffer(bytes: stream[start..<min(start + chunkSize, stream.count)])
            while let action = try parser.next(&chunk) {
                switch action {
                case .begin(let index, let size):
                    #expect(open == nil && index == contents.count && size == Int64(blobs[index].content.count))
                    open = index
                    contents.append([])
                case .content(let bytes):
                    contents[try #require(open)] += Array(buffer: bytes)
                case .end(let index):
                    #expect(open == index)
                    open = nil
                }
            }
            #expect(chunk.readableBytes == 0)
        }
        try parser.finish()
        #expect(parser.completed == digests.count)
        return contents
    }

    @Test("a frame header is the digest, a space, the size in decimal and a newline")
    func wireFormat() {
        let segment = BlobSegment(digest: .empty, size: 1234)
        #expect(
            BlobFrame.header(for: segment)
                == Array("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 1234\n".utf8))
        #expect(BlobFrame.mediaType == "application/vnd.cairn.blobs")
        #expect(BlobFrame.streamLength(of: Self.blobs.map(\.segment)) == Self.stream(Self.blobs).count)
        #expect(BlobFrame.header(for: BlobSegment(digest: .empty, size: .max)).count <= BlobFrame.maximumHeaderLength)
    }

    @Test("blobs split across chunks at every kind of boundary come out whole", arguments: [1, 2, 7, 64, 65, 4096])
    func chunkBoundaries(chunkSize: Int) throws {
        let contents = try Self.parse(
            Self.stream(Self.blobs), expecting: Self.blobs.map(\.segment.digest), chunkSize: chunkSize)
        #expect(contents == Self.blobs.map(\.content))
    }

    @Test("an empty answer to an empty request is complete")
    func empty() throws {
        try BlobFrameParser(expecting: []).finish()
        #expect(try Self.parse([], expecting: [], chunkSize: 1).isEmpty)
    }

    /// Feeds the whole stream at once and returns the error it ends in, as a person reads it.
    static func failure(_ stream: [UInt8], expecting digests: [BlobDigest]) -> String? {
        var parser = BlobFrameParser(expecting: digests)
        var buffer = ByteBuffer(bytes: stream)
        do {
            while try parser.next(&buffer) != nil {}
            try parser.finish()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("a stream cut short, a frame for another blob, extra frames and garbage are errors that say which")
    func badStreams() throws {
        let two = Array(Self.blobs.prefix(3).suffix(2))
        let digests = two.map(\.segment.digest)
        let stream = Self.stream(two)
        #expect(Self.failure(stream, expecting: digests) == nil)

        let truncated = Self.failure(Array(stream.dropLast(3)), expecting: digests)
        #expect(truncated == "the store's answer ended after 1 of 2 blobs")
        let inHeader = Self.failure(Array(stream.prefix(10)), expecting: digests)
        #expect(inHeader == "the store's answer ended after 0 of 2 blobs")

        let swapped = Self.failure(stream, expecting: digests.reversed())
        #expect(swapped == "the store sent blob \(digests[0]) where \(digests[1]) was expected")

        let extra = Self.failure(stream, expecting: Array(digests.prefix(1)))
        #expect(extra == "the store sent more than the 1 blobs asked for")

        let garbage = Self.failure(Array("not a frame\n".utf8), expecting: digests)
        #expect(garbage == "the store sent a malformed blob frame: not a frame")
        let negative = Self.failure(Array("\(digests[0].hex) -1\n".utf8), expecting: digests)
        #expect(negative?.hasPrefix("the store sent a malformed blob frame: ") == true)

        // A header never ends: refused once it is longer than any real one, whatever the chunks.
        var parser = BlobFrameParser(expecting: digests)
        #expect(throws: BlobFrameError.self) {
            for _ in 0..<100 {
                var chunk = ByteBuffer(bytes: Array("0".utf8))
                while try parser.next(&chunk) != nil {}
            }
        }
        let long = Self.failure(Array(repeating: UInt8(ascii: "0"), count: 1 << 20), expecting: digests)
        #expect(long == "the store sent a malformed blob frame")
    }
}
