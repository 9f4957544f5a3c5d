import NIOCore

/// The answer of `POST /_cairn/cas/missing`: `{"missing": ["<sha256>", ...]}`, the digests asked about that the
/// store does not hold, in the order asked.
public struct MissingBlobsResponse: Codable, Sendable, Hashable {
    /// SHA-256 hex digests.
    public var missing: [String]

    enum CodingKeys: String, CodingKey {
        case missing
    }

    public init(missing: [String]) {
        self.missing = missing
    }

    public init(missing: some Sequence<BlobDigest>) {
        self.missing = missing.map(\.hex)
    }

    /// The body as `JSONEncoder` writes it, written by hand: before a first build's upload, every digest of the
    /// workspace is missing.
    public func json() -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(16 + missing.count * 67)
        buffer.writeStaticString("{")
        buffer.writeJSONKey(CodingKeys.missing)
        buffer.writeJSONArray(missing)
        buffer.writeStaticString("}")
        return buffer
    }
}
