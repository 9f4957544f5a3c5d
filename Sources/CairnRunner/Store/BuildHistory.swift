/// The last build of a project, kept so `--explain` can say what changed: `runner-history/<project id>`.
public struct BuildHistory: Sendable, Hashable, Codable {
    public static let namespace = "runner-history"

    public var buildNumber: Int
    public var phases: [String: PhaseKeyInputs]
}
