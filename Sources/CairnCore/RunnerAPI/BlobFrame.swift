/// The framing of `POST /_cairn/cas/read`'s answer: every blob asked for, in order, each as a header
/// `<sha256 hex> <size>\n` followed by exactly `size` bytes of content.
///
/// One request restores thousands of files. The server writes frames with ``header(for:)``; the runner reads them
/// with ``BlobFrameParser``.
public enum BlobFrame: Sendable {
    /// The `Content-Type` of a stream of frames.
    public static let mediaType = "application/vnd.cairn.blobs"

    /// The longest header a reader accepts, its newline left out (a real one is at most 84 bytes).
    public static let maximumHeaderLength = 96

    /// The header that precedes `segment`'s bytes.
    public static func header(for segment: BlobSegment) -> [UInt8] {
        Array("\(segment.digest.hex) \(segment.size)\n".utf8)
    }

    /// The length of a stream that frames `segments`: headers and content.
    public static func streamLength(of segments: [BlobSegment]) -> Int {
        segments.reduce(0) { $0 + header(for: $1).count + Int($1.size) }
    }
}
