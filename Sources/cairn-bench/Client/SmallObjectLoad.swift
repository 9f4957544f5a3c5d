import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A closed-loop load generator: `connections` workers, each with its own keep-alive connection, sends one
/// request after another for a fixed time (and at most `maxRequestsPerWorker`), recording each latency.
struct SmallObjectLoad: Sendable {
    let client: HTTPClient
    let connections: Int
    let duration: Duration
    let maxRequestsPerWorker: Int

    /// What one phase (all PUTs or all GETs) measured.
    struct Result: Sendable {
        var requests: Int
        var seconds: Double
        /// Sorted request latencies in seconds.
        var latencies: [Double]
        var requestsPerSecond: Double { Double(requests) / seconds }
        func latencyPercentile(_ p: Double) -> Double {
            latencies.isEmpty
                ? 0 : latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.up)) - 1)]
        }
    }

    /// The key a worker uses for its n-th object.
    static func key(prefix: String, worker: Int, index: Int) -> String { "\(prefix)/w\(worker)/\(index)" }

    /// PUTs fresh objects, each a copy of `template` with its key stamped in front (so no two are identical and
    /// no store can skip writing one); returns the measurement and how many keys each worker wrote.
    func put(_ endpoint: ObjectEndpoint, prefix: String, template: [UInt8]) async throws -> (Result, [Int]) {
        try await run(expectBytes: nil) { worker, index in
            let key = Self.key(prefix: prefix, worker: worker, index: index)
            var body = ByteBuffer(bytes: template)
            body.setString(key + "\n", at: 0)
            var request = makeRequest(endpoint, method: .PUT, key: key)
            request.headers.add(name: "Content-Length", value: String(body.readableBytes))
            request.body = .bytes(body)
            return request
        }
    }

    /// GETs the keys `put` wrote, round-robin per worker, checking each body's length.
    func get(_ endpoint: ObjectEndpoint, prefix: String, written: [Int], size: Int) async throws -> Result {
        try await run(expectBytes: size) { worker, index in
            makeRequest(
                endpoint, method: .GET,
                key: Self.key(prefix: prefix, worker: worker, index: index % max(1, written[worker]))
            )
        }
        .0
    }

    /// GETs one unsigned path over and over, checking only the status: the HTTP layer's own ceiling.
    func probe(_ url: String) async throws -> Result {
        try await run(expectBytes: nil) { _, _ in HTTPClientRequest(url: url) }.0
    }

    private func makeRequest(_ endpoint: ObjectEndpoint, method: HTTPMethod, key: String) -> HTTPClientRequest {
        let (url, headers) = endpoint.request(method: method.rawValue, key: key)
        var request = HTTPClientRequest(url: url)
        request.method = method
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        return request
    }

    private func run(
        expectBytes: Int?, _ makeRequest: @escaping @Sendable (_ worker: Int, _ index: Int) -> HTTPClientRequest
    ) async throws -> (Result, [Int]) {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + duration
        let perWorker = try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
            for worker in 0..<connections {
                group.addTask {
                    var latencies: [Double] = []
                    latencies.reserveCapacity(min(maxRequestsPerWorker, 100_000))
                    var index = 0
                    while index < maxRequestsPerWorker, clock.now < deadline {
                        let request = makeRequest(worker, index)
                        let sent = clock.now
                        let response = try await client.execute(request, timeout: .seconds(60))
                        let body = try await response.body.collect(upTo: 64 << 20)
                        guard (200..<300).contains(response.status.code) else {
                            throw BenchError(
                                "\(request.method) \(request.url) answered \(response.status.code): \(String(buffer: body).prefix(300))"
                            )
                        }
                        if let expectBytes, body.readableBytes != expectBytes {
                            throw BenchError(
                                "GET \(request.url) returned \(body.readableBytes) bytes, not \(expectBytes)")
                        }
                        latencies.append((clock.now - sent).seconds)
                        index += 1
                    }
                    return (worker, latencies)
                }
            }
            var results = [[Double]](repeating: [], count: connections)
            for try await (worker, latencies) in group { results[worker] = latencies }
            return results
        }
        let seconds = (clock.now - start).seconds
        let all = perWorker.flatMap { $0 }.sorted()
        return (Result(requests: all.count, seconds: seconds, latencies: all), perWorker.map(\.count))
    }
}

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
        guard let signer = endpoint.signer else { return }
        var request = HTTPClientRequest(url: endpoint.baseURL + endpoint.prefix)
        request.method = .PUT
        for header in signer.headers(method: "PUT", path: endpoint.prefix) {
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
}
