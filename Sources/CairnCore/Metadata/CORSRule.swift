/// One rule of a bucket's CORS configuration: which origins may use which methods with which request headers,
/// which response headers a browser may read, and how long it may cache a preflight answer.
public struct CORSRule: Sendable, Hashable, Codable {
    public var id: String?
    /// Origins, each with at most one `*` wildcard (`https://*.example.com`, or `*` for any).
    public var allowedOrigins: [String]
    /// GET, PUT, POST, DELETE or HEAD.
    public var allowedMethods: [String]
    /// Request headers a preflight may ask for, each with at most one `*` wildcard; matched case-insensitively.
    public var allowedHeaders: [String]
    /// Response headers a browser script may read.
    public var exposeHeaders: [String]
    public var maxAgeSeconds: Int?

    public init(
        id: String? = nil, allowedOrigins: [String], allowedMethods: [String], allowedHeaders: [String] = [],
        exposeHeaders: [String] = [], maxAgeSeconds: Int? = nil
    ) {
        self.id = id
        self.allowedOrigins = allowedOrigins
        self.allowedMethods = allowedMethods
        self.allowedHeaders = allowedHeaders
        self.exposeHeaders = exposeHeaders
        self.maxAgeSeconds = maxAgeSeconds
    }
}
