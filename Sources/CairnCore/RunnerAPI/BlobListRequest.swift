import NIOCore

/// The body of `POST /_cairn/cas/missing` and `POST /_cairn/cas/read`: `{"digests": ["<sha256>", ...]}`, the blobs
/// asked about, in order.
///
/// The digests are the text on the wire, not yet validated: a server answers a malformed body and a malformed
/// digest with different errors.
public struct BlobListRequest: Codable, Sendable, Hashable {
    /// SHA-256 hex digests.
    public var digests: [String]

    enum CodingKeys: String, CodingKey {
        case digests
    }

    public init(digests: [String]) {
        self.digests = digests
    }

    public init(digests: some Sequence<BlobDigest>) {
        self.digests = digests.map(\.hex)
    }

    /// The body as `JSONEncoder` writes it, written by hand: a batch of 10,000 digests is 670 KB.
    public func json() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(16 + digests.count * 67)
        buffer.writeStaticString("{")
        buffer.writeJSONKey(CodingKeys.digests)
        buffer.writeJSONArray(digests)
        buffer.writeStaticString("}")
        return buffer
    }
}
