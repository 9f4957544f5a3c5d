/// What SigV4 (and SigV2) verification needs of an HTTP request, independent of the HTTP server.
public struct SignedRequest: Sendable {
    /// The HTTP method, e.g. `PUT`.
    public var method: String
    /// The decoded path, e.g. `/bucket/a b`.
    public var path: String
    /// The decoded query items, in the order sent.
    public var query: [(name: String, value: String)]
    /// Header values by lowercase name; repeated headers joined with commas. Includes `host`.
    public var headers: [String: String]
    /// The resource Signature Version 2 signs: the path exactly as sent (still percent-encoded), with `/bucket` in
    /// front when the host name carried the bucket. Nil: `path`, re-encoded as SigV4 encodes it.
    public var resourcePath: String?

    public init(
        method: String, path: String, query: [(name: String, value: String)], headers: [String: String],
        resourcePath: String? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.resourcePath = resourcePath
    }
}
