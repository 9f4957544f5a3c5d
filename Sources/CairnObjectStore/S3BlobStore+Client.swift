import AsyncHTTPClient

extension S3BlobStore {
    /// The object store's HTTP client: `HTTPClient.shared`'s settings, except that a connection that cannot be made
    /// fails the request at once, where the shared client retries it until the request's deadline (minutes). An
    /// object store that is down then gets a client an error (503) at once, not a request that hangs. It lives as
    /// long as the process and is never shut down.
    public static let defaultClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
