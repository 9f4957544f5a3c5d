/// What a ``BlobWriter`` learned about the content it received, once all of it arrived.
public struct BlobSummary: Sendable {
    /// The SHA-256 that names the blob.
    public let digest: BlobDigest
    /// The raw SHA-256 bytes.
    public let sha256: [UInt8]
    /// The raw MD5 bytes (S3's ETag for a single-part object).
    public let md5: [UInt8]
    /// The number of bytes written.
    public let size: Int64
    /// The additional checksum, base64, when one was requested.
    public let checksum: (algorithm: ChecksumAlgorithm, value: String)?

    public init(
        digest: BlobDigest, sha256: [UInt8], md5: [UInt8], size: Int64,
        checksum: (algorithm: ChecksumAlgorithm, value: String)?
    ) {
        self.digest = digest
        self.sha256 = sha256
        self.md5 = md5
        self.size = size
        self.checksum = checksum
    }
}
