import NIOCore

/// Reads a stream of ``BlobFrame``s as it arrives, for blobs asked for in a known order.
///
/// Fed the body's `ByteBuffer`s, split at any boundary, it says what to do next: begin a blob, take the next bytes of
/// it, end it. Content is handed out as slices of the buffers fed in, never copied or collected, so a caller can
/// write each blob straight to its file. A header for another digest than the one expected next, a malformed
/// header, more frames than asked for, or a stream that ends inside a frame is an error.
public struct BlobFrameParser: Sendable {
    /// What the caller does next.
    public enum Action: Sendable, Equatable {
        /// The frame of the blob asked for at `index` begins; `size` bytes of content follow.
        case begin(index: Int, size: Int64)
        /// The next bytes of the blob begun last.
        case content(ByteBuffer)
        /// The blob begun last is complete.
        case end(index: Int)
    }

    private enum State: Sendable {
        /// Between frames, or inside a header whose bytes so far are kept.
        case header
        case content(index: Int, remaining: Int64)
    }

    private let expected: [BlobDigest]
    private var state = State.header
    private var header: [UInt8] = []
    /// How many blobs have ended.
    public private(set) var completed = 0

    /// A parser for the answer to a request for `digests`, in that order.
    public init(expecting digests: [BlobDigest]) {
        self.expected = digests
    }

    /// The next action for the bytes at the front of `buffer`, whose reader index moves past what the action
    /// covers; nil once `buffer` is used up and the next chunk of the stream is needed.
    public mutating func next(_ buffer: inout ByteBuffer) throws(BlobFrameError) -> Action? {
        switch state {
        case .content(let index, let remaining):
            if remaining == 0 {
                state = .header
                completed += 1
                return .end(index: index)
            }
            guard buffer.readableBytes > 0 else { return nil }
            let count = Int(min(Int64(buffer.readableBytes), remaining))
            state = .content(index: index, remaining: remaining - Int64(count))
            return .content(buffer.readSlice(length: count)!)
        case .header:
            guard buffer.readableBytes > 0 else { return nil }
            guard completed < expected.count else { throw .tooManyBlobs(asked: expected.count) }
            let newline = buffer.withUnsafeReadableBytes { $0.firstIndex(of: UInt8(ascii: "\n")) }
            let length = newline ?? buffer.readableBytes
            guard header.count + length <= BlobFrame.maximumHeaderLength else { throw .headerTooLong }
            header += buffer.readableBytesView.prefix(length)
            buffer.moveReaderIndex(forwardBy: newline.map { $0 + 1 } ?? length)
            return newline == nil ? nil : try begin()
        }
    }

    /// Checks that the stream ended between frames, after every blob asked for.
    public func finish() throws(BlobFrameError) {
        guard completed == expected.count, case .header = state, header.isEmpty else {
            throw .endedEarly(received: completed, asked: expected.count)
        }
    }

    /// The action for the complete header in `header`.
    private mutating func begin() throws(BlobFrameError) -> Action {
        let text = String(decoding: header, as: UTF8.self)
        header.removeAll(keepingCapacity: true)
        let parts = text.split(separator: " ")
        guard parts.count == 2, let size = Int64(parts[1]), size >= 0, BlobDigest(hex: String(parts[0])) != nil else {
            throw .malformedHeader(text)
        }
        let index = completed
        guard parts[0] == expected[index].hex else {
            throw .unexpectedBlob(sent: String(parts[0]), expected: expected[index])
        }
        state = .content(index: index, remaining: size)
        return .begin(index: index, size: size)
    }
}
