/// The four phases a buildspec can declare, in the order CodeBuild runs them.
public enum PhaseName: String, Sendable, Hashable, CaseIterable, Codable {
    case install
    case preBuild = "pre_build"
    case build
    case postBuild = "post_build"

    /// The phase type in CodeBuild's API (`PRE_BUILD`).
    public var phaseType: String { rawValue.uppercased() }
}
