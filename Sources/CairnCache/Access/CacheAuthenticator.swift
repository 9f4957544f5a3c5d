import CairnCore
import CairnSigV4
import Foundation
import HTTPTypes
import Hummingbird

/// Authenticates build-cache requests.
///
/// Accepted: HTTP Basic with the root access key id and secret as user and password; a cache token as a Bearer
/// token or as the Basic password (any user name, as ccache and Gradle put it in the URL); and SigV4-signed
/// requests with the root credentials (UNSIGNED-PAYLOAD or a hex payload hash). Anything else is 401.
public struct CacheAuthenticator: Sendable {
    let rootAccessKeyID: String
    let rootSecretAccessKey: String
    let metadata: any MetadataStore
    let verifier: SigV4Verifier

    public init(
        rootAccessKeyID: String, rootSecretAccessKey: String, metadata: any MetadataStore, verifier: SigV4Verifier
    ) {
        self.rootAccessKeyID = rootAccessKeyID
        self.rootSecretAccessKey = rootSecretAccessKey
        self.metadata = metadata
        self.verifier = verifier
    }

    /// The caller, or a 401 naming what was wrong.
    public func principal(for request: Request) async throws -> CachePrincipal {
        guard let authorization = request.headers[.authorization] else {
            throw CacheError.unauthorized(
                "credentials are required: Basic (access key id and secret, or a cache token) or a Bearer token")
        }
        if authorization.hasPrefix("Basic ") {
            guard
                let decoded = Data(
                    base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else { throw CacheError.unauthorized("the Basic credentials are not base64 of user:password") }
            let user = String(text[..<colon])
            let password = String(text[text.index(after: colon)...])
            if ConstantTime.equal(user, rootAccessKeyID) && ConstantTime.equal(password, rootSecretAccessKey) {
                return .root
            }
            if let token = try await metadata.token(secret: password) { return Self.principal(token) }
            throw CacheError.unauthorized("unknown user or wrong password")
        }
        if authorization.hasPrefix("Bearer ") {
            let secret = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            if let token = try await metadata.token(secret: secret) { return Self.principal(token) }
            throw CacheError.unauthorized("unknown or revoked token")
        }
        if authorization.hasPrefix(SigV4.algorithm) {
            do {
                _ = try verifier.verify(signedRequest(request))
                return .root
            } catch let error as SigV4Error {
                throw CacheError(error)
            }
        }
        throw CacheError.unauthorized("unsupported authorization scheme")
    }

    /// The caller of a build-cache route (the protocols, the runner's API): a 401 as ``principal(for:)``, or a 403
    /// when the caller's token lacks the ``TokenScope/cache`` scope.
    public func cachePrincipal(for request: Request) async throws -> CachePrincipal {
        let principal = try await principal(for: request)
        try principal.require(.cache, for: "use the build-cache routes")
        return principal
    }

    private static func principal(_ token: CacheToken) -> CachePrincipal {
        CachePrincipal(namespace: token.namespace, readOnly: token.readOnly, tokenID: token.id, scopes: token.scopes)
    }

    private func signedRequest(_ request: Request) throws -> SignedRequest {
        guard let path = SigV4.percentDecode(request.uri.path), let query = SigV4.parseQuery(request.uri.query) else {
            throw CacheError.badRequest("InvalidURI", "the request path or query is not valid percent-encoded UTF-8")
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0),\(field.value)" } ?? field.value
        }
        headers["host"] = request.head.authority ?? headers["host"] ?? ""
        return SignedRequest(method: request.method.rawValue, path: path, query: query, headers: headers)
    }
}
