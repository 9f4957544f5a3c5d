import CairnCore
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// What a token's scopes open on the server's own routes: the metrics, retention on demand, the build-cache routes.
@Suite("Token scopes on the server's routes")
struct TokenScopeRouteTests {
    static func bearer(_ secret: String) -> HTTPFields { [.authorization: "Bearer \(secret)"] }

    @Test("metrics take the metrics scope, retention the admin scope, the cache routes the cache scope")
    func scopesOpenRoutes() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-token-scopes")
        let router = try CairnServerRouteTests.makeRouter(in: directory)
        // A second connection to the same database, as `cairn token create` beside a running server.
        let store = try SQLiteMetadataStore(dataDirectory: directory.path)
        let (_, cache) = try await store.createToken(namespace: "*", readOnly: false)
        let (_, metrics) = try await store.createToken(namespace: "*", readOnly: false, scopes: [.metrics])
        let (_, admin) = try await store.createToken(namespace: "*", readOnly: false, scopes: [.admin])
        let entry = "/_cairn/ccache/team-s/ab/cdef"
        try await Application(router: router).test(.router) { client in
            func status(_ uri: String, _ method: HTTPRequest.Method, _ secret: String?) async throws -> Int {
                try await client.execute(
                    uri: uri, method: method, headers: secret.map(Self.bearer) ?? [:]
                ).status.code
            }
            #expect(try await status("/_cairn/metrics", .get, nil) == 401)
            #expect(try await status("/_cairn/metrics", .get, metrics) == 200)
            #expect(try await status("/_cairn/metrics", .get, cache) == 403)
            #expect(try await status("/_cairn/metrics", .get, admin) == 403)
            let refused = try await client.execute(uri: "/_cairn/metrics", method: .get, headers: Self.bearer(cache))
            #expect(String(buffer: refused.body).contains("metrics scope"), "\(String(buffer: refused.body))")

            #expect(try await status("/_cairn/admin/gc?dry_run=true", .post, admin) == 200)
            #expect(try await status("/_cairn/admin/gc?dry_run=true", .post, cache) == 403)
            #expect(try await status("/_cairn/admin/gc?dry_run=true", .post, metrics) == 403)

            #expect(try await status(entry, .get, cache) == 404)
            #expect(try await status(entry, .get, metrics) == 403)
            #expect(try await status(entry, .get, admin) == 403)
            let digest = String(repeating: "0", count: 64)
            #expect(try await status("/_cairn/cas/\(digest)", .get, metrics) == 403)
            #expect(try await status("/_cairn/cas/\(digest)", .get, cache) == 404)
            #expect(try await status("/_cairn/runner/builds", .post, metrics) == 403)
        }
    }
}
