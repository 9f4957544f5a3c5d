import CairnCore

/// What a snapshot knows about one path: its kind, permission bits and content (or link target).
public struct FileRecord: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case file
        case directory
        case symlink
    }

    public var kind: Kind
    /// Permission bits (`0o755`); 0 for symlinks.
    public var mode: UInt32
    /// The content's digest (files only).
    public var digest: BlobDigest?
    /// The content's size (files only).
    public var size: Int64
    /// Where the link points (symlinks only).
    public var target: String?

    public init(kind: Kind, mode: UInt32, digest: BlobDigest? = nil, size: Int64 = 0, target: String? = nil) {
        self.kind = kind
        self.mode = mode
        self.digest = digest
        self.size = size
        self.target = target
    }
}
