import CairnCache
import CairnCore
import CairnS3
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Builds and runs the Cairn server from resolved settings.
public enum CairnServer {
    /// Opens the data directory (lock, blob store, metadata), clears temp files left by a crash, and returns the
    /// application ready to run. `onListening` receives the URL once the socket is bound (port 0 resolved).
    public static func buildApplication(
        settings: ServerSettings,
        logger: Logger,
        onListening: @escaping @Sendable (String) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        try settings.validate()
        try FileManager.default.createDirectory(atPath: settings.dataDirectory, withIntermediateDirectories: true)
        let lock = try DataDirectoryLock(dataDirectory: settings.dataDirectory)
        let storage = try await openStorage(settings: settings, logger: logger)
        let (blobs, metadata) = (storage.blobs, storage.metadata)
        let (credentials, generated) = try RootCredentials.resolve(settings: settings)
        if generated {
            let notice = """
                Generated root credentials (stored in \(settings.dataDirectory)/credentials.json, shown only once):
                  AWS_ACCESS_KEY_ID=\(credentials.accessKeyID)
                  AWS_SECRET_ACCESS_KEY=\(credentials.secretAccessKey)

                """
            FileHandle.standardOutput.write(Data(notice.utf8))
        }
        let verifier = SigV4Verifier(maximumSkew: settings.maximumClockSkew) { id in
            id == credentials.accessKeyID ? credentials.secretAccessKey : nil
        }
        let accessLog = AccessLog(metadata: metadata)
        let s3 = S3Service(
            blobs: blobs, metadata: metadata, verifier: verifier,
            configuration: .init(region: settings.region, virtualHostDomain: settings.virtualHostDomain),
            accessLog: accessLog, logger: logger
        )
        let cacheStorage = CacheStorage(
            blobs: blobs, metadata: metadata, accessLog: accessLog, maximumEntrySize: settings.maximumCacheEntrySize
        )
        let cacheAuthenticator = CacheAuthenticator(
            rootAccessKeyID: credentials.accessKeyID, rootSecretAccessKey: credentials.secretAccessKey,
            metadata: metadata, verifier: verifier
        )
        let builds = RecentBuilds(store: metadata)
        try await builds.load()
        let observation = ServerObservation(
            metricsEnabled: settings.metricsEnabled, metricsArePublic: settings.metricsArePublic,
            storageUsage: { try await metadata.usage() }, dataDirectory: settings.dataDirectory, builds: builds)
        let retention = RetentionRunner(
            job: RetentionJob(metadata: metadata, policy: settings.retention, batchSize: settings.retentionBatchSize),
            accessLog: accessLog, metrics: observation.metrics, logger: logger
        )
        let router = buildRouter(
            metadata: metadata, cacheStorage: cacheStorage, cacheAuthenticator: cacheAuthenticator,
            observation: observation
        ) { dryRun in
            try await retention.run(dryRun: dryRun)
        }
        let hitRates = HitRateHistory(store: metadata)
        try await hitRates.load()
        let metrics = observation.metrics
        ConsoleRoutes(
            metadata: metadata, blobs: blobs, observation: observation, rootAccessKeyID: credentials.accessKeyID,
            rootSecretAccessKey: credentials.secretAccessKey, retentionPolicy: settings.retention,
            runRetention: { dryRun in try await retention.run(dryRun: dryRun) },
            lastRetention: { await retention.lastRun }, namespaceUsage: { try await metadata.namespaceUsage() },
            history: hitRates, templates: try ConsoleTemplates()
        ).register(on: router)
        let hitRateSampler = FlushService(name: "cache hit-rate samples", interval: .seconds(60), logger: logger) {
            try await hitRates.record(metrics.lookupCountsByProtocol())
        }
        let tlsFiles = settings.tlsCertificate.flatMap { certificate in settings.tlsKey.map { (certificate, $0) } }
        let responder = CairnResponder(
            s3: s3, routes: router.buildResponder(), sendsFiles: tlsFiles == nil,
            metrics: settings.metricsEnabled ? observation.metrics : nil,
            virtualHostDomain: settings.virtualHostDomain)

        let (host, port) = try settings.hostAndPort()
        let answerImmediately: ImmediateReadHandler.Answering = { head, eventLoop in
            responder.immediateResponse(to: head, eventLoop: eventLoop)
        }
        let http1 = HTTPServerBuilder.http1(
            configuration: .init(
                additionalChannelHandlers: tlsFiles == nil
                    ? [ExpectContinueHandler(), FileRegionHandler(), ImmediateReadHandler(answer: answerImmediately)]
                    : [ExpectContinueHandler(), ImmediateReadHandler(answer: answerImmediately)]))
        let server: HTTPServerBuilder
        let scheme: String
        if let (certificate, key) = tlsFiles {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            )
            server = try .tls(http1, tlsConfiguration: tls)
            scheme = "https"
        } else {
            server = http1
            scheme = "http"
        }
        let flusher = FlushService(
            name: "access times", interval: .milliseconds(Int64(settings.accessFlushInterval * 1000)), logger: logger
        ) { try await accessLog.flush() }
        return Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "Cairn"),
            services: storage.services + [flusher, hitRateSampler, LockHolder(lock: lock)]
                + (settings.retentionInterval > 0
                    ? [
                        RetentionService(
                            runner: retention, interval: .milliseconds(Int64(settings.retentionInterval * 1000)),
                            logger: logger
                        )
                    ] : []),
            onServerRunning: { channel in
                let boundPort = channel.localAddress?.port ?? port
                let shownHost = host.contains(":") ? "[\(host)]" : host
                await onListening("\(scheme)://\(shownHost):\(boundPort)")
            },
            logger: logger
        )
    }

    /// Cairn's own routes under `/_cairn/`: health, metrics, the build-cache protocols and retention on demand.
    ///
    /// ``buildApplication(settings:logger:onListening:)`` serves them beside S3 on the stores it opened; tests build
    /// them on stores in a temporary directory and send requests in-process, without a server process.
    ///
    /// - Parameters:
    ///   - observation: the metrics `GET /_cairn/metrics` shows and the builds the runner reports.
    ///   - runRetention: runs retention once (`true`: a dry run) for `POST /_cairn/admin/gc`.
    public static func buildRouter(
        metadata: any MetadataStore, cacheStorage: CacheStorage, cacheAuthenticator: CacheAuthenticator,
        observation: ServerObservation = ServerObservation(),
        runRetention: @escaping @Sendable (_ dryRun: Bool) async throws -> RetentionReport
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/_cairn/health") { _, _ -> Response in
            _ = try await metadata.bucket("-health-check-")
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "{\"status\":\"ok\"}\n")))
        }
        CacheRoutes.register(on: router, storage: cacheStorage, authenticator: cacheAuthenticator)
        ObservationRoutes(observation: observation, authenticator: cacheAuthenticator).register(on: router)
        router.post("/_cairn/admin/gc") { request, _ -> Response in
            try await cacheAuthenticator.principal(for: request).require(.admin, for: "run retention")
            let dryRun = ["1", "true"].contains(request.uri.queryParameters["dry_run"].map(String.init) ?? "")
            let report = try await runRetention(dryRun)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(
                status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(report))))
        }
        return router
    }
}

/// Keeps the data-directory lock alive for as long as the service group runs.
private struct LockHolder: Service {
    let lock: DataDirectoryLock

    func run() async throws {
        try? await gracefulShutdown()
        withExtendedLifetime(lock) {}
    }
}
