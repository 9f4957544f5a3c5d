/// What SigV4 verification needs of an HTTP request, independent of the HTTP server.
public struct SignedRequest: Sendable {
    /// The HTTP method, e.g. `PUT`.
    public var method: String
    /// The decoded path, e.g. `/bucket/a b`.
    public var path: String
    /// The decoded query items, in the order sent.
    public var query: [(name: String, value: String)]
    /// Header values by lowercase name; repeated headers joined with commas. Includes `host`.
    public var headers: [String: String]

    public init(method: String, path: String, query: [(name: String, value: String)], headers: [String: String]) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
    }
}

/// The credential scope and signing key of a verified request, for checking `aws-chunked` chunk signatures.
public struct ChunkSigningContext: Sendable {
    public let signingKey: [UInt8]
    public let amzDate: String
    public let scope: String
    /// The request's own signature: the "previous signature" of the first chunk.
    public let seedSignature: String
}

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

/// A request whose signature checked out.
public struct Authentication: Sendable {
    /// Who signed it.
    public let accessKeyID: String
    /// What the body must satisfy.
    public let payload: PayloadExpectation
}
