import CairnCore

/// Who is calling a `/_cairn/` route, and what they may do.
public struct CachePrincipal: Sendable {
    /// The namespace the caller is limited to; nil for the root credentials (every namespace).
    public let namespace: String?
    /// A read-only caller gets hits but every write is refused.
    public let readOnly: Bool
    /// The token id, for logs.
    public let tokenID: String?
    /// What the caller may do: a token's scopes; every scope for the root credentials.
    public let scopes: Set<TokenScope>

    public init(namespace: String?, readOnly: Bool, tokenID: String?, scopes: Set<TokenScope>) {
        self.namespace = namespace
        self.readOnly = readOnly
        self.tokenID = tokenID
        self.scopes = scopes
    }

    /// The root credentials: everything is allowed.
    public static let root = CachePrincipal(
        namespace: nil, readOnly: false, tokenID: nil, scopes: Set(TokenScope.allCases))

    /// Throws 403 unless the caller may read (or write) the namespace; the ``TokenScope/cache`` scope is checked by
    /// ``CacheAuthenticator/cachePrincipal(for:)``.
    public func authorize(namespace requested: String, write: Bool) throws {
        if let namespace, namespace != "*", namespace != requested {
            throw CacheError.forbidden("this token is limited to namespace \(namespace), not \(requested)")
        }
        if write && readOnly {
            throw CacheError.forbidden("this token is read-only: it can read hits but never write")
        }
    }

    /// Throws 403 unless the caller holds `scope`; `what` completes "this token may not …".
    public func require(_ scope: TokenScope, for what: String) throws {
        guard scopes.contains(scope) else {
            throw CacheError.forbidden(
                "this token may not \(what): that takes the root credentials or a token with the \(scope.rawValue) "
                    + "scope (cairn token create --scope \(scope.rawValue))")
        }
    }
}
