/// How much the store holds: what clients stored (logical) against the blobs that hold it once (physical).
///
/// Identical content is stored once, so the logical bytes exceed the physical bytes by what deduplication saved.
public struct StorageUsage: Sendable, Equatable, Codable {
    /// S3 objects and their bytes.
    public var objects = 0
    public var objectBytes: Int64 = 0
    /// Build-cache entries and the bytes of the blobs each names (a blob named by two entries counts twice).
    public var entries = 0
    public var entryBytes: Int64 = 0
    /// Blobs in the store and their bytes, each counted once.
    public var blobs = 0
    public var blobBytes: Int64 = 0

    public init() {}

    /// Bytes as clients see them: every object and entry at its full size.
    public var logicalBytes: Int64 { objectBytes + entryBytes }
}
