/// The credential scope and signing key of a verified request, for checking `aws-chunked` chunk signatures.
public struct ChunkSigningContext: Sendable {
    /// The key derived for the request's day, region and service.
    public let signingKey: [UInt8]
    /// The request's `x-amz-date`, which every chunk's string to sign repeats.
    public let amzDate: String
    /// The credential scope, `date/region/service/aws4_request`.
    public let scope: String
    /// The request's own signature: the "previous signature" of the first chunk.
    public let seedSignature: String
}
