/// A host directory or file bind-mounted into a build container.
public struct ContainerMount: Sendable, Hashable {
    /// The absolute path on the host.
    public let host: String
    /// The absolute path inside the container. The engine creates it (and its missing parents) in the container's
    /// filesystem; ``BuildContainer/changes()`` leaves it, what is below it and those parents out.
    public let container: String
    /// Whether the container sees it read-only.
    public let readOnly: Bool

    public init(host: String, container: String, readOnly: Bool = false) {
        self.host = host
        self.container = container
        self.readOnly = readOnly
    }

    /// The engine's `--volume` value: `host:container` or `host:container:ro`.
    var volumeArgument: String { "\(host):\(container)" + (readOnly ? ":ro" : "") }
}
