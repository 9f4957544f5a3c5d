import AsyncHTTPClient
import NIOCore

extension HTTPClient {
    /// A client for the load: up to `connections` keep-alive HTTP/1.1 connections per host, no redirects.
    static func benchmarkClient(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(120), concurrentHTTP1ConnectionsPerHostSoftLimit: connections
        )
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Creates the S3 bucket of an endpoint (nothing for WebDAV); an existing bucket is fine.
    func createBucket(_ endpoint: ObjectEndpoint) async throws {
        guard endpoint.signer != nil else { return }
        var request = HTTPClientRequest(url: endpoint.baseURL + endpoint.prefix)
        request.method = .PUT
        for header in endpoint.headers(method: "PUT", path: endpoint.prefix) {
            request.headers.add(name: header.name, value: header.value)
        }
        request.headers.add(name: "Content-Length", value: "0")
        let response = try await execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) || response.status.code == 409 else {
            throw BenchError(
                "creating bucket \(endpoint.prefix) on \(endpoint.system): \(response.status.code) \(String(buffer: body))"
            )
        }
    }

    /// PUTs one object into the endpoint's bucket (or WebDAV directory); throws unless it is stored (2xx).
    func put(_ endpoint: ObjectEndpoint, key: String, body: ByteBuffer) async throws {
        let (url, headers) = endpoint.request(method: "PUT", key: key)
        var request = HTTPClientRequest(url: url)
        request.method = .PUT
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(body)
        let response = try await execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw BenchError("PUT \(key) on \(endpoint.system): \(response.status.code)")
        }
    }
}
