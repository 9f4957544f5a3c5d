import CairnCore
import CairnServer
import CairnTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// Logging in to the web console with tokens, what each scope may do there, and what the console keeps across a
/// restart; through the whole application built by `cairn serve`'s function, in-process.
@Suite("Console access")
struct ConsoleAccessTests {
    /// Runs `body` against a new application on the data directory; the application is gone when it returns.
    static func withConsole(
        _ directory: TemporaryDirectory, _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = try await CairnServer.buildApplication(
            settings: CairnServerRouteTests.settings(in: directory), logger: Logger(label: "cairn.test"))
        try await app.test(.router, body)
    }

    /// Logs in with a name and secret; returns the session cookie, or nil and the status when refused.
    static func logIn(
        _ client: any TestClientProtocol, user: String = "anyone", secret: String
    ) async throws -> (cookie: String?, response: TestResponse) {
        let body = "access_key_id=\(user)&secret_access_key=\(secret)"
        let response = try await client.execute(
            uri: "/_cairn/ui/login", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"], body: ByteBuffer(string: body))
        let cookie = response.headers[.setCookie].flatMap { header in
            header.split(separator: ";").first.map(String.init)
        }
        return (response.status == .seeOther ? cookie : nil, response)
    }

    static func get(_ client: any TestClientProtocol, _ uri: String, cookie: String) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie])
    }

    /// The form token a page's forms carry.
    static func formToken(_ page: String) -> String? {
        guard let range = page.range(of: "name=\"form_token\" value=\"") else { return nil }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test(
        "a console token reads every page but changes nothing; an admin token manages tokens; a cache token is refused")
    func tokensLogIn() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-console-access")
        // Opens (and migrates) the database before the application does, as `cairn token create` would.
        let store = try SQLiteMetadataStore(dataDirectory: directory.path)
        let (reader, readerSecret) = try await store.createToken(namespace: "*", readOnly: false, scopes: [.console])
        let (_, adminSecret) = try await store.createToken(namespace: "*", readOnly: false, scopes: [.admin])
        let (_, cacheSecret) = try await store.createToken(namespace: "team-a", readOnly: false)
        try await store.createBucket("console-bucket")
        try await Self.withConsole(directory) { client in
            let refused = try await Self.logIn(client, secret: cacheSecret)
            #expect(refused.cookie == nil)
            #expect(refused.response.status == .unauthorized)
            #expect(String(buffer: refused.response.body).contains("console or admin scope"))
            #expect(try await Self.logIn(client, secret: "cairn_not-a-token").response.status == .unauthorized)

            let readerCookie = try #require(try await Self.logIn(client, secret: readerSecret).cookie)
            let overview = try await Self.get(client, "/_cairn/ui/", cookie: readerCookie)
            #expect(overview.status == .ok)
            let overviewPage = String(buffer: overview.body)
            #expect(overviewPage.contains("Cache hit rate"))
            #expect(!overviewPage.contains("href=\"/_cairn/ui/tokens\""), "a reader is not offered the tokens page")
            let buckets = try await Self.get(client, "/_cairn/ui/buckets", cookie: readerCookie)
            #expect(String(buffer: buckets.body).contains("console-bucket"))
            #expect(try await Self.get(client, "/_cairn/ui/tokens", cookie: readerCookie).status == .forbidden)
            let formToken = try #require(Self.formToken(overviewPage))
            let revoke = try await client.execute(
                uri: "/_cairn/ui/tokens/revoke", method: .post,
                headers: [.cookie: readerCookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "form_token=\(formToken)&id=\(reader.id)"))
            #expect(revoke.status == .forbidden)
            #expect(try await store.tokens().contains { $0.id == reader.id }, "the reader could not revoke itself")

            let adminCookie = try #require(try await Self.logIn(client, secret: adminSecret).cookie)
            let tokens = try await Self.get(client, "/_cairn/ui/tokens", cookie: adminCookie)
            #expect(tokens.status == .ok)
            let tokensPage = String(buffer: tokens.body)
            #expect(tokensPage.contains("<td class=\"scopes\">console</td>"), "\(tokensPage)")
            // An admin creates a metrics token in the console, and a scraper uses it.
            let adminForm = try #require(Self.formToken(tokensPage))
            let created = try await client.execute(
                uri: "/_cairn/ui/tokens", method: .post,
                headers: [.cookie: adminCookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "form_token=\(adminForm)&namespace=%2A&scope_metrics=1"))
            let createdPage = String(buffer: created.body)
            let secretStart = try #require(createdPage.range(of: "id=\"new-token\">"))
            let secret = String(createdPage[secretStart.upperBound...].prefix { $0 != "<" })
            #expect(secret.hasPrefix("cairn_"))
            let scrape = try await client.execute(
                uri: "/_cairn/metrics", method: .get, headers: [.authorization: "Bearer \(secret)"])
            #expect(scrape.status == .ok)
            #expect(String(buffer: scrape.body).contains("cairn_requests_total{"))
            // A console token for one namespace is refused: the console sees them all.
            let narrow = try await client.execute(
                uri: "/_cairn/ui/tokens", method: .post,
                headers: [.cookie: adminCookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "form_token=\(adminForm)&namespace=team-a&scope_console=1"))
            #expect(narrow.status == .badRequest)

            // Revoking the reader's token ends its session.
            try await store.revokeToken(id: reader.id)
            let after = try await Self.get(client, "/_cairn/ui/", cookie: readerCookie)
            #expect(after.status == .seeOther)
            #expect(after.headers[.location] == "/_cairn/ui/login")
        }
    }

    @Test("the builds reported and the hit-rate samples are shown again after a restart")
    func survivesRestart() async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-console-restart")
        let report = BuildOutcomeReport(
            project: "kept-project", buildNumber: 12, succeeded: true, startTime: 1000, endTime: 1030,
            phases: [.init(name: "BUILD", outcome: .restored, durationSeconds: 1, savedSeconds: 29, reasons: [])])
        try await Self.withConsole(directory) { client in
            let posted = try await client.execute(
                uri: "/_cairn/runner/builds", method: .post, headers: CairnServerRouteTests.rootCredentials,
                body: ByteBuffer(bytes: try JSONEncoder().encode(report)))
            #expect(posted.status == .noContent)
        }
        try await Self.withConsole(directory) { client in
            let cookie = try #require(
                try await Self.logIn(
                    client, user: CairnServerRouteTests.accessKeyID, secret: CairnServerRouteTests.secretAccessKey
                ).cookie)
            let builds = String(buffer: try await Self.get(client, "/_cairn/ui/builds", cookie: cookie).body)
            #expect(builds.contains("kept-project #12"), "\(builds)")
            #expect(builds.contains("29.0"))
        }
    }
}
