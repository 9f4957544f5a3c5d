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

/// One group of the `reports` section.
public struct ReportGroup: Sendable, Hashable {
    public var name: String
    public var files: [String] = []
    public var baseDirectory: String?
    public var discardPaths = false
    /// `file-format`; `JUNITXML` by default.
    public var fileFormat = "JUNITXML"
}

/// CodeBuild's `cache` section.
public struct CacheSpec: Sendable, Hashable {
    /// `key`, shell-expanded before use.
    public var key: String?
    /// `fallback-keys`, matched by prefix.
    public var fallbackKeys: [String] = []
    /// `action`: `restore`, `save`, or nil for both.
    public var action: String?
    /// `paths`.
    public var paths: [String] = []
}

/// Cairn's optional `cairn` section: narrows a phase's inputs and names outputs outside the source tree.
///
/// CodeBuild does not know this key; a buildspec without it caches correctly (every phase depends on the whole
/// source tree). Example:
///
/// ```yaml
/// cairn:
///   env-inputs: [CC]          # outer environment variables that every phase key includes
///   phases:
///     install:
///       inputs: [package-lock.json]   # globs, relative to the source directory
///       outputs: [/root/.npm]         # directories outside the source tree to record and restore
/// ```
public struct CairnExtension: Sendable, Hashable {
    public struct PhaseSettings: Sendable, Hashable {
        /// Globs relative to the source directory; nil means the whole source tree.
        public var inputs: [String]?
        /// Absolute (or `~/`) paths outside the source tree whose changes the phase's entry records.
        public var outputs: [String] = []
    }
    /// Outer environment variables whose values every phase key includes.
    public var envInputs: [String] = []
    /// Settings per phase.
    public var phases: [PhaseName: PhaseSettings] = [:]
}
