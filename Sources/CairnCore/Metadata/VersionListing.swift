/// One page of ListObjectVersions: versions and delete markers by key, each key's newest first, and common
/// prefixes.
public struct VersionListing: Sendable {
    public enum Entry: Sendable {
        case version(ObjectVersion)
        case commonPrefix(String)
    }

    public var entries: [Entry]
    public var isTruncated: Bool
    /// Where the next page starts (S3's NextKeyMarker and NextVersionIdMarker); set when truncated. The version id
    /// marker is nil when the page ended on a common prefix.
    public var nextKeyMarker: String?
    public var nextVersionIDMarker: String?

    public init(entries: [Entry], isTruncated: Bool, nextKeyMarker: String?, nextVersionIDMarker: String?) {
        self.entries = entries
        self.isTruncated = isTruncated
        self.nextKeyMarker = nextKeyMarker
        self.nextVersionIDMarker = nextVersionIDMarker
    }
}
