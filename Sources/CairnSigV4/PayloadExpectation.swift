/// How the request body must be checked, as the request's `x-amz-content-sha256` declared.
public enum PayloadExpectation: Sendable {
    /// `UNSIGNED-PAYLOAD`, or a presigned URL: nothing to verify beyond checksums.
    case unsigned
    /// A hex SHA-256 the body must hash to.
    case sha256([UInt8])
    /// An `aws-chunked` body; `signing` is set when every chunk carries a signature, `trailer` when checksums
    /// follow the last chunk.
    case streaming(signing: ChunkSigningContext?, trailer: Bool)
}
