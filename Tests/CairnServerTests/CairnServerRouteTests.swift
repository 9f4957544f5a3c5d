import CairnCache
import CairnCore
import CairnS3
import CairnServer
import CairnSigV4
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The server's own routes and application, built in-process by the functions `cairn serve` uses.
@Suite("Server routes")
struct CairnServerRouteTests {
    static let accessKeyID = "SERVERROOT"
    static let secretAccessKey = "server-root-secret"

    static var rootCredentials: HTTPFields {
        [.authorization: "Basic " + Data("\(accessKeyID):\(secretAccessKey)".utf8).base64EncodedString()]
    }

    /// Settings for a whole application on a free local port, with the tests' root credentials and no retention
    /// job running on its own.
    static func settings(in directory: TemporaryDirectory) -> ServerSettings {
        var settings = ServerSettings()
        settings.address = "127.0.0.1:0"
        settings.dataDirectory = directory.path
        settings.rootAccessKeyID = accessKeyID
        settings.rootSecretAccessKey = secretAccessKey
        settings.retentionInterval = 0
        return settings
    }

    /// ``CairnServer/buildRouter(metadata:cacheStorage:cacheAuthenticator:runRetention:)`` on stores in `directory`,
    /// with retention run by the real job (no rules: it finds nothing to do).
    static func makeRouter(in directory: TemporaryDirectory) throws -> Router<BasicRequestContext> {
        let blobs = try FileBlobStore(dataDirectory: directory.path)
        let metadata = try SQLiteMetadataStore(dataDirectory: directory.path, blobs: blobs)
        let verifier = SigV4Verifier { $0 == accessKeyID ? secretAccessKey : nil }
        let job = RetentionJob(metadata: metadata, policy: RetentionPolicy())
        return CairnServer.buildRouter(
            metadata: metadata,
            cacheStorage: CacheStorage(blobs: blobs, metadata: metadata, accessLog: nil, maximumEntrySize: 1 << 20),
            cacheAuthenticator: CacheAuthenticator(
                rootAccessKeyID: accessKeyID, rootSecretAccessKey: secretAccessKey, metadata: metadata,
                verifier: verifier)
        ) { dryRun in
            try await job.run(dryRun: dryRun)
        }
    }

    @Test("the health route answers ok once the metadata store answers")
    func health() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-server-routes")
        try await Application(router: try Self.makeRouter(in: directory)).test(.router) { client in
            let response = try await client.execute(uri: "/_cairn/health", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect(String(buffer: response.body) == "{\"status\":\"ok\"}\n")
        }
    }

    @Test("retention on demand needs the root credentials and answers with the run's report")
    func retentionOnDemand() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-server-routes")
        try await Application(router: try Self.makeRouter(in: directory)).test(.router) { client in
            let anonymous = try await client.execute(uri: "/_cairn/admin/gc", method: .post)
            #expect(anonymous.status == .unauthorized)
            let response = try await client.execute(
                uri: "/_cairn/admin/gc?dry_run=true", method: .post, headers: Self.rootCredentials)
            #expect(response.status == .ok)
            let report = try JSONDecoder().decode(RetentionReport.self, from: Data(String(buffer: response.body).utf8))
            #expect(report.dryRun)
            #expect(report.blobsSwept == 0)
        }
    }

    @Test("with metrics.enabled false nothing is counted and the metrics route answers 404")
    func metricsDisabled() async throws {
        for enabled in [true, false] {
            let directory = try TemporaryDirectory(prefix: "cairn-server-metrics-off")
            var settings = Self.settings(in: directory)
            settings.metricsEnabled = enabled
            let app = try await CairnServer.buildApplication(settings: settings, logger: Logger(label: "cairn.test"))
            try await app.test(.router) { client in
                #expect(try await client.execute(uri: "/_cairn/health", method: .get).status == .ok)
                let metrics = try await client.execute(
                    uri: "/_cairn/metrics", method: .get, headers: Self.rootCredentials)
                let text = String(buffer: metrics.body)
                if enabled {
                    #expect(metrics.status == .ok)
                    #expect(text.contains("cairn_requests_total{api=\"cairn\",operation=\"health\""), "\(text)")
                } else {
                    #expect(metrics.status == .notFound)
                    #expect(text.contains("metrics.enabled"))
                }
            }
        }
    }

    @Test("the whole application answers in-process: health, and S3 refusing an unsigned request")
    func liveApplication() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-server-live")
        let app = try await CairnServer.buildApplication(
            settings: Self.settings(in: directory), logger: Logger(label: "cairn.test"))
        // Through the application's responder, without a socket: the suite runs beside tests that wait on child
        // processes, and a live client's read timeout would measure how busy the machine is, not the server.
        try await app.test(.router) { client in
            let health = try await client.execute(uri: "/_cairn/health", method: .get)
            #expect(health.status == .ok)
            let unsigned = try await client.execute(uri: "/some-bucket/some-key", method: .get)
            #expect(unsigned.status == .forbidden)
            #expect(
                String(buffer: unsigned.body).contains("<Code>AccessDenied</Code>"), "\(String(buffer: unsigned.body))")
        }
    }
}
