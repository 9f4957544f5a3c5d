import CairnCore

/// What the store keeps for a phase that succeeded: the value blob of its `runner/<key>` entry.
///
/// Every digest it names (changed files, the log) is one of the entry's references, so the store keeps them
/// while the entry lives. Variables that held the source directory's or the home directory's absolute path hold
/// ``sourceDirectoryToken`` or ``homeToken`` instead, and paths under the home directory are recorded as `~/…`, so
/// another checkout at another path, or another user, restores correctly.
public struct PhaseManifest: Sendable, Hashable, Codable {
    public static let namespace = "runner"
    public static let sourceDirectoryToken = "@@CAIRN_SRC_DIR@@"
    public static let homeToken = "@@CAIRN_HOME@@"
    /// The directory of `codebuild-hash-files`, new for every build (a phase that extends `PATH` names it).
    public static let helperDirectoryToken = "@@CAIRN_BIN@@"

    /// The format this runner writes: 2 stores each changed file as one array, `[path, kind, mode, digest or null,
    /// size]` plus a symlink's target; 1 (still read, so entries stored by earlier runners keep hitting) stored them
    /// as an object of objects keyed by path.
    public static let formatVersion = 2

    public var phase: String
    public var key: String
    /// Files created or changed (paths relative to the source directory, or absolute outside it) and deleted paths.
    public var changes: WorkspaceChanges
    /// Exported variables the phase set or changed.
    public var setVariables: [String: String]
    /// Exported variables the phase removed.
    public var unsetVariables: [String]
    /// Shell variables (not exported) the phase set or changed, as assignments the same shell can replay.
    public var shellVariables: [String: String]? = nil
    /// Shell variables the phase removed.
    public var unsetShellVariables: [String]? = nil
    /// The working directory at the end (relative to the source directory, `.` for it; or absolute).
    public var workingDirectory: String
    /// The phase's output.
    public var log: BlobSegment
    public var durationSeconds: Double

    /// Every blob the manifest names.
    public var references: [BlobDigest] {
        Array(Set(changes.changed.values.compactMap(\.digest) + [log.digest])).sorted()
    }
}
