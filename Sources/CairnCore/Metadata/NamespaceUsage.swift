/// What one build-cache namespace holds: its entries, the bytes they name, and the bytes no one else names.
public struct NamespaceUsage: Sendable, Equatable, Codable {
    /// The namespace as stored: the protocol and the client's namespace (`ccache/team-a`), or the runner's.
    public var namespace: String
    public var entries: Int
    /// The bytes of the blobs its entries name, each entry counted in full.
    public var logicalBytes: Int64
    /// The bytes of the blobs that only this namespace's entries name (no other namespace, no object): what
    /// deleting the namespace would free.
    public var uniqueBytes: Int64

    public init(namespace: String, entries: Int, logicalBytes: Int64, uniqueBytes: Int64) {
        self.namespace = namespace
        self.entries = entries
        self.logicalBytes = logicalBytes
        self.uniqueBytes = uniqueBytes
    }
}
