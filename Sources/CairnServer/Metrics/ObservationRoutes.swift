import CairnCache
import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /_cairn/metrics` (Prometheus' text format; the root credentials, a token with the `metrics` scope, or
/// anyone with `metrics.public`) and `POST /_cairn/runner/builds` (what `cairn build` reports when it ends; a token
/// with the `cache` scope that may write).
struct ObservationRoutes: Sendable {
    let observation: ServerObservation
    let authenticator: CacheAuthenticator

    /// The largest build report accepted: a build has a handful of phases, each with a few reasons.
    static let maximumReportBytes = 1 << 20

    func register(on router: Router<BasicRequestContext>) {
        router.get("/_cairn/metrics") { request, _ -> Response in
            guard observation.metricsEnabled else {
                throw CacheError(
                    .notFound, "MetricsDisabled", "this server counts no requests (metrics.enabled: false)")
            }
            if !observation.metricsArePublic {
                try await authenticator.principal(for: request).require(.metrics, for: "read the metrics")
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: try await observation.exposition())))
        }
        router.post(RouterPath(RunnerAPIPath.builds)) { request, context -> Response in
            let principal = try await authenticator.cachePrincipal(for: request)
            if principal.readOnly {
                throw CacheError(.forbidden, "Forbidden", "this token is read-only: it cannot report builds")
            }
            var request = request
            let body = try await request.collectBody(upTo: Self.maximumReportBytes)
            let report: BuildOutcomeReport
            do {
                report = try JSONDecoder().decode(BuildOutcomeReport.self, from: Data(buffer: body))
            } catch {
                throw CacheError(.badRequest, "InvalidBuildReport", "the build report is not valid JSON: \(error)")
            }
            observation.metrics.recordBuild(report)
            do {
                try await observation.builds.add(report)
            } catch {
                // The console still shows it until the server stops; the report itself was good.
                context.logger.warning(
                    "could not store a reported build",
                    metadata: ["build.project": "\(report.project)", "error": "\(error)"])
            }
            return Response(status: .noContent)
        }
    }
}
