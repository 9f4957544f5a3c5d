import Foundation

/// How recorded paths and values map to this machine: the source directory, the home directory and the build's
/// helper directory.
///
/// A phase manifest must restore on another checkout at another path, for another user, in another build. So paths
/// under the home directory are recorded as `~/…`, source paths relative, and values that name one of the three
/// directories hold ``PhaseManifest``'s tokens instead.
struct PortablePaths: Sendable, Hashable {
    /// The source directory (`CODEBUILD_SRC_DIR`), absolute and standardised.
    var sourceDirectory: String
    /// The build's home directory: `HOME` of the build's environment, or the user's.
    var home: String
    /// The directory of `codebuild-hash-files`, new for every build.
    var helperDirectory: String

    /// `~/…` expanded against the build's home; other paths unchanged.
    func expandHome(_ path: String) -> String {
        guard path.hasPrefix("~/") else { return path }
        return home + path.dropFirst(1)
    }

    /// The path on this machine of a recorded path: relative to the source directory, `~/…`, or absolute.
    func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if path.hasPrefix("~/") { return expandHome(path) }
        return sourceDirectory + "/" + path
    }

    /// A snapshot key for a recorded path (`~/…` expanded; source paths stay relative).
    func local(_ path: String) -> String {
        path.hasPrefix("~/") ? expandHome(path) : path
    }

    /// Paths under the home directory recorded as `~/…`, so another machine (another home) restores them right.
    func portable(_ path: String) -> String {
        guard path.hasPrefix("/"), !home.isEmpty, home != "/", path == home || path.hasPrefix(home + "/") else {
            return path
        }
        return "~" + path.dropFirst(home.count)
    }

    /// Changes with every path made portable.
    func portable(_ changes: WorkspaceChanges) -> WorkspaceChanges {
        WorkspaceChanges(
            changed: Dictionary(changes.changed.map { (portable($0.key), $0.value) }, uniquingKeysWith: { $1 }),
            deleted: changes.deleted.map(portable)
        )
    }

    /// Text with this build's helper directory, source directory and home replaced by tokens.
    func tokenize(_ text: String) -> String {
        var text = text.replacingOccurrences(of: helperDirectory, with: PhaseManifest.helperDirectoryToken)
            .replacingOccurrences(of: sourceDirectory, with: PhaseManifest.sourceDirectoryToken)
        if home.count > 1 { text = text.replacingOccurrences(of: home, with: PhaseManifest.homeToken) }
        return text
    }

    /// Text with the tokens replaced by this build's directories.
    func detokenize(_ text: String) -> String {
        text.replacingOccurrences(of: PhaseManifest.helperDirectoryToken, with: helperDirectory)
            .replacingOccurrences(of: PhaseManifest.sourceDirectoryToken, with: sourceDirectory)
            .replacingOccurrences(of: PhaseManifest.homeToken, with: home)
    }

    /// A directory relative to the source directory (`.` for it), or absolute outside it.
    func relativeDirectory(_ directory: String) -> String {
        if directory == sourceDirectory { return "." }
        if directory.hasPrefix(sourceDirectory + "/") { return String(directory.dropFirst(sourceDirectory.count + 1)) }
        return directory
    }
}
