/// The `artifacts` section (and each of its `secondary-artifacts`).
public struct ArtifactSpec: Sendable, Hashable {
    /// The identifier: `primary`, or the key under `secondary-artifacts`.
    public var identifier: String
    /// `files`: glob patterns relative to the base directory.
    public var files: [String] = []
    /// `name`, evaluated by the shell when given.
    public var name: String?
    /// `base-directory`.
    public var baseDirectory: String?
    /// `discard-paths: yes`.
    public var discardPaths = false
    /// `exclude-paths`.
    public var excludePaths: [String] = []
    /// `enable-symlinks: yes`.
    public var enableSymlinks = false
    /// `s3-prefix`.
    public var s3Prefix: String?
    /// `secondary-artifacts` (primary only).
    public var secondary: [ArtifactSpec] = []
}
