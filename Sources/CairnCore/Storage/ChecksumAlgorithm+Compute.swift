extension ChecksumAlgorithm {
    /// The base64 checksum of a small in-memory byte string (e.g. S3's checksum-of-checksums for multipart objects).
    public func checksum(of bytes: [UInt8]) -> String {
        let accumulator = ChecksumAccumulator(self)
        bytes.withUnsafeBytes { accumulator.update($0) }
        let sha256 = self == .sha256 ? MessageDigest.hash(.sha256, bytes) : []
        return accumulator.finalize(sha256: sha256)
    }
}
