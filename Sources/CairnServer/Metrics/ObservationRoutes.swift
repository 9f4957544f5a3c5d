import CairnCache
import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /_cairn/metrics` (Prometheus' text format) and `POST /_cairn/runner/builds` (what `cairn build` reports
/// when it ends).
struct ObservationRoutes: Sendable {
    let observation: ServerObservation
    let authenticator: CacheAuthenticator

    /// The largest build report accepted: a build has a handful of phases, each with a few reasons.
    static let maximumReportBytes = 1 << 20

    func register(on router: Router<BasicRequestContext>) {
        router.get("/_cairn/metrics") { request, _ -> Response in
            if !observation.metricsArePublic {
                let principal = try await authenticator.principal(for: request)
                guard principal.tokenID == nil, principal.namespace == nil else {
                    throw CacheError(
                        .forbidden, "Forbidden",
                        "only the root credentials may read the metrics (or set metrics.public: true)")
                }
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(
                status: .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: try await observation.exposition())))
        }
        router.post(RouterPath(RunnerAPIPath.builds)) { request, _ -> Response in
            let principal = try await authenticator.principal(for: request)
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
            await observation.builds.add(report)
            return Response(status: .noContent)
        }
    }
}
