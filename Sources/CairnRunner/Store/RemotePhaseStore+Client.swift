import AsyncHTTPClient

extension RemotePhaseStore {
    /// The runner's HTTP client: `HTTPClient.shared`'s settings, except that a connection that cannot be made fails
    /// the request at once, where the shared client retries it until the request's deadline (minutes). An
    /// unreachable store then costs a build a moment before it goes on without the cache. Like the shared client,
    /// it lives as long as the process and is never shut down.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
