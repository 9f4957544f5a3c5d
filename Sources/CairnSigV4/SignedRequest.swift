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
