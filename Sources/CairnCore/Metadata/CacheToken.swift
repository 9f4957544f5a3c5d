import Foundation
import GRDB

/// A bearer token, for the build-cache protocols scoped to one namespace (or `*` for all), possibly read-only, and
/// for whatever else its ``scopes`` allow (scraping the metrics, the web console).
///
/// Only the SHA-256 of the secret is stored; the secret is shown once, when the token is created.
public struct CacheToken: Sendable, Hashable {
    /// A short public identifier, used to list and revoke the token.
    public var id: String
    /// The namespace the token may use; `*` means every namespace.
    public var namespace: String
    /// A read-only token gets hits but can never write.
    public var readOnly: Bool
    /// What the token may be used for; never empty.
    public var scopes: Set<TokenScope>
    public var createdAt: Date

    public init(
        id: String, namespace: String, readOnly: Bool, scopes: Set<TokenScope> = TokenScope.defaults, createdAt: Date
    ) {
        self.id = id
        self.namespace = namespace
        self.readOnly = readOnly
        self.scopes = scopes
        self.createdAt = createdAt
    }

    /// Whether the token may use a namespace.
    public func allows(namespace other: String) -> Bool { namespace == "*" || namespace == other }

    /// Throws unless a token of this namespace may hold these scopes: at least one, and the console's only for
    /// namespace `*`, since the console shows and changes every bucket and namespace.
    public static func validate(namespace: String, scopes: Set<TokenScope>) throws {
        if scopes.isEmpty {
            throw TokenScopeError(message: "a token needs at least one scope (cache, metrics, console or admin)")
        }
        if namespace != "*", !scopes.isDisjoint(with: [.console, .admin]) {
            throw TokenScopeError(
                message: "the console and admin scopes cover every bucket and namespace: make the token for namespace *"
            )
        }
    }
}
