/// One path of a container's filesystem that differs from its image: what `podman diff` or `docker diff` reports.
public struct ContainerChange: Sendable, Hashable, CustomStringConvertible {
    /// How the path differs from the image.
    public enum Kind: Sendable, Hashable {
        /// The image has no such path.
        case added
        /// The path is in the image with other content or metadata. For a directory this is often only that
        /// something below it changed; the paths below are reported on their own.
        case changed
        /// The path is in the image and not in the container.
        case deleted
    }

    /// How the path differs.
    public let kind: Kind
    /// The absolute path inside the container (`/usr/local/bin/jq`).
    public let path: String

    public init(_ kind: Kind, _ path: String) {
        self.kind = kind
        self.path = path
    }

    /// The engine's own notation: `A /path`, `C /path` or `D /path`.
    public var description: String {
        switch kind {
        case .added: "A \(path)"
        case .changed: "C \(path)"
        case .deleted: "D \(path)"
        }
    }
}
