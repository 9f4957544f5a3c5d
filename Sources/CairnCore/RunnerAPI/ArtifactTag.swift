/// The user-metadata keys (`x-amz-meta-…`) with which the runner tags every artifact and report object it uploads,
/// and which retention's `keep_last_builds` reads to keep the newest builds of each project.
public enum ArtifactTag: Sendable {
    /// The project the build belongs to.
    public static let project = "cairn-project"
    /// The build's number within its project, in decimal.
    public static let build = "cairn-build"
}
