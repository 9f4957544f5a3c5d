/// One version of a key in a versioned bucket: an object, or a delete marker, which has no content.
public struct ObjectVersion: Sendable, Hashable {
    /// The version's row; a delete marker's has no segments, size 0 and an empty ETag.
    public var object: ObjectInfo
    /// Whether this version is a delete marker: reading the key when it is the latest answers 404.
    public var isDeleteMarker: Bool
    /// Whether this is the key's newest version (the current object, or the delete marker that hides it).
    public var isLatest: Bool

    public init(object: ObjectInfo, isDeleteMarker: Bool, isLatest: Bool) {
        self.object = object
        self.isDeleteMarker = isDeleteMarker
        self.isLatest = isLatest
    }

    /// The version id (`null` for the version written while versioning was off or suspended).
    public var versionID: String { object.versionID }

    /// A new version id: 32 random hexadecimal characters, unique for all practical purposes.
    public static func newVersionID() -> String {
        SecureRandom.bytes(16).hexString
    }
}
