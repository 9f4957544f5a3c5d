import Foundation
import GRDB

/// A bearer token for the build-cache protocols, scoped to one namespace (or `*` for all), possibly read-only.
///
/// Only the SHA-256 of the secret is stored; the secret is shown once, when the token is created.
public struct CacheToken: Sendable, Hashable {
    /// A short public identifier, used to list and revoke the token.
    public var id: String
    /// The namespace the token may use; `*` means every namespace.
    public var namespace: String
    /// A read-only token gets hits but can never write.
    public var readOnly: Bool
    public var createdAt: Date

    public init(id: String, namespace: String, readOnly: Bool, createdAt: Date) {
        self.id = id
        self.namespace = namespace
        self.readOnly = readOnly
        self.createdAt = createdAt
    }

    /// Whether the token may use a namespace.
    public func allows(namespace other: String) -> Bool { namespace == "*" || namespace == other }
}
