import Foundation

/// A build-cache entry: `(namespace, key)` → a value blob, plus the other blobs the value names.
///
/// Every cache protocol stores its entries this way: the Bazel action cache (the value is a serialized
/// `ActionResult`, the references are its output blobs), Bazel's CAS (key and value are the same digest),
/// ccache, Gradle and Turborepo (the value is the entry itself), and the runner (the value is a phase manifest,
/// the references are output files and the log). A reader must treat an entry whose blobs are missing as a miss.
public struct ActionEntry: Sendable, Hashable {
    /// The cache namespace, e.g. `bazel/main/ac` or `ccache/team-a`.
    public var namespace: String
    /// The key within the namespace.
    public var key: String
    /// The blob that holds the value.
    public var value: BlobSegment
    /// Other blobs the value names; retention keeps them while the entry lives.
    public var references: [BlobDigest]
    /// Small protocol-specific attributes (e.g. Turborepo's `x-artifact-duration` and `x-artifact-tag`).
    public var attributes: [String: String]
    /// The value's size plus the references' sizes, as known when stored.
    public var totalSize: Int64
    public var createdAt: Date

    public init(
        namespace: String, key: String, value: BlobSegment, references: [BlobDigest] = [],
        attributes: [String: String] = [:], totalSize: Int64? = nil, createdAt: Date = Date()
    ) {
        self.namespace = namespace
        self.key = key
        self.value = value
        self.references = references
        self.attributes = attributes
        self.totalSize = totalSize ?? value.size
        self.createdAt = createdAt
    }
}
