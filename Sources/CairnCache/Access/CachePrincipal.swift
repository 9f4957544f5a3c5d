/// Who is calling a build-cache route, and what they may do.
public struct CachePrincipal: Sendable {
    /// The namespace the caller is limited to; nil for the root credentials (every namespace).
    public let namespace: String?
    /// A read-only caller gets hits but every write is refused.
    public let readOnly: Bool
    /// The token id, for logs.
    public let tokenID: String?

    /// The root credentials: everything is allowed.
    public static let root = CachePrincipal(namespace: nil, readOnly: false, tokenID: nil)

    /// Throws 403 unless the caller may read (or write) the namespace.
    public func authorize(namespace requested: String, write: Bool) throws {
        if let namespace, namespace != "*", namespace != requested {
            throw CacheError.forbidden("this token is limited to namespace \(namespace), not \(requested)")
        }
        if write && readOnly {
            throw CacheError.forbidden("this token is read-only: it can read hits but never write")
        }
    }
}
