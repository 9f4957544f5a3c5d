import CairnCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web console under `/_cairn/ui/`: server-rendered pages, no JavaScript, behind a login form that sets a
/// session cookie (credentials never travel in a URL).
///
/// The root credentials log in, and so does a token with the `console` scope (every page, read-only) or the `admin`
/// scope (also deleting objects and managing tokens): either in the form's secret field, with any name.
struct ConsoleRoutes: Sendable {
    let metadata: any MetadataStore
    let blobs: any BlobStore
    let observation: ServerObservation
    let rootAccessKeyID: String
    let rootSecretAccessKey: String
    let retentionPolicy: RetentionPolicy
    let runRetention: @Sendable (_ dryRun: Bool) async throws -> RetentionReport
    let lastRetention: @Sendable () async -> (report: RetentionReport, endedAt: Date)?
    let namespaceUsage: @Sendable () async throws -> [NamespaceUsage]
    let sessions = ConsoleSessions()
    let history: HitRateHistory
    let templates: ConsoleTemplates

    static let prefix = "/_cairn/ui"
    static let cookieName = "cairn_session"

    func register(on router: Router<BasicRequestContext>) {
        router.get("/_cairn/ui/login") { _, _ in
            html(templates.render("login", title: "Log in", values: [:], session: nil))
        }
        router.post("/_cairn/ui/login") { request, _ in try await login(request) }
        router.post("/_cairn/ui/logout") { request, _ in
            let (id, _) = try await signedIn(request, form: try await form(request))
            await sessions.end(id)
            var response = Self.redirect(to: "\(Self.prefix)/login")
            response.headers[.setCookie] =
                "\(Self.cookieName)=; Path=\(Self.prefix); HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        }
        router.get("/_cairn/ui/") { request, _ in try await page(request) { try await overview($0) } }
        router.get("/_cairn/ui/buckets") { request, _ in try await page(request) { try await buckets($0) } }
        router.get("/_cairn/ui/objects") { request, _ in try await page(request) { try await objects(request, $0) } }
        router.get("/_cairn/ui/download") { request, _ in try await download(request) }
        router.post("/_cairn/ui/delete") { request, _ in try await delete(request) }
        router.get("/_cairn/ui/namespaces") { request, _ in try await page(request) { try await namespaces($0) } }
        router.get("/_cairn/ui/builds") { request, _ in try await page(request) { await builds($0) } }
        router.get("/_cairn/ui/retention") { request, _ in
            try await page(request) { retention($0, dryRun: nil) }
        }
        router.post("/_cairn/ui/retention") { request, _ in
            let (_, session) = try await signedIn(request, form: try await form(request))
            let report = try await runRetention(true)
            return html(retention(session, dryRun: report))
        }
        router.get("/_cairn/ui/tokens") { request, _ in
            try await page(request, administering: true) { try await tokens($0, created: nil) }
        }
        router.post("/_cairn/ui/tokens") { request, _ in try await createToken(request) }
        router.post("/_cairn/ui/tokens/revoke") { request, _ in try await revokeToken(request) }
    }

    // MARK: sessions

    private func login(_ request: Request) async throws -> Response {
        let fields = try await form(request)
        let user = fields["access_key_id"] ?? ""
        let secret = fields["secret_access_key"] ?? ""
        let token: CacheToken?
        if ConstantTime.equal(user, rootAccessKeyID), ConstantTime.equal(secret, rootSecretAccessKey) {
            token = nil
        } else if let found = try await metadata.token(secret: secret),
            !found.scopes.isDisjoint(with: [.console, .admin])
        {
            token = found
        } else {
            let message =
                try await metadata.token(secret: secret) == nil
                ? "Wrong access key id or secret: the console takes the root credentials or a token."
                : "This token may not open the console: that takes a token with the console or admin scope."
            var response = html(templates.render("login", title: "Log in", values: ["message": message], session: nil))
            response.status = .unauthorized
            return response
        }
        let id = await sessions.start(token: token)
        var response = Self.redirect(to: "\(Self.prefix)/")
        response.headers[.setCookie] = "\(Self.cookieName)=\(id); Path=\(Self.prefix); HttpOnly; SameSite=Strict"
        return response
    }

    /// The session the request's cookie names; for a form, also checks the form's token; with `administering`,
    /// refuses a session that may only read.
    func signedIn(
        _ request: Request, form: FormBody? = nil, administering: Bool = false
    ) async throws -> (String, ConsoleSessions.Session) {
        guard let id = Self.cookie(Self.cookieName, in: request), let session = await sessions.session(id) else {
            throw ConsoleRedirect(location: "\(Self.prefix)/login")
        }
        if let tokenID = session.tokenID, try await !metadata.tokens().contains(where: { $0.id == tokenID }) {
            // Revoked since the session began.
            await sessions.end(id)
            throw ConsoleRedirect(location: "\(Self.prefix)/login")
        }
        if let form, form["form_token"] != session.formToken {
            throw HTTPError(.forbidden, message: "This form is stale: reload the page and try again.")
        }
        if administering, !session.administers {
            throw HTTPError(
                .forbidden,
                message: "This session may only read: deleting objects and managing tokens take the root credentials "
                    + "or a token with the admin scope.")
        }
        return (id, session)
    }

    /// A page for a signed-in user, or a redirect to the login form.
    func page(
        _ request: Request, administering: Bool = false, _ render: (ConsoleSessions.Session) async throws -> String
    ) async throws -> Response {
        do {
            let (_, session) = try await signedIn(request, administering: administering)
            return html(try await render(session))
        } catch let redirect as ConsoleRedirect {
            return Self.redirect(to: redirect.location)
        }
    }

    func form(_ request: Request) async throws -> FormBody {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        return FormBody(String(buffer: body))
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == name { return String(parts[1]) }
            }
        }
        return nil
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    func html(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Thrown where a page needs a session and the request has none: the answer is the login form.
struct ConsoleRedirect: Error {
    let location: String
}

extension ConsoleRedirect: HTTPResponseError {
    var status: HTTPResponse.Status { .seeOther }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        ConsoleRoutes.redirect(to: location)
    }
}
