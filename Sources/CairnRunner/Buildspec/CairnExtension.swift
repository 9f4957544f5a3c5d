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
///     post_build:
///       cache: no                     # always run (it reads CODEBUILD_BUILD_NUMBER, deploys, …)
/// ```
public struct CairnExtension: Sendable, Hashable {
    public struct PhaseSettings: Sendable, Hashable {
        /// Globs relative to the source directory; nil means the whole source tree.
        public var inputs: [String]?
        /// Absolute (or `~/`) paths outside the source tree whose changes the phase's entry records.
        public var outputs: [String] = []
        /// False (`cache: no`) for a phase that must always run: it is neither looked up nor stored.
        public var cache = true
    }
    /// Outer environment variables whose values every phase key includes.
    public var envInputs: [String] = []
    /// Settings per phase.
    public var phases: [PhaseName: PhaseSettings] = [:]
}
