import Testing

extension Trait where Self == ConditionTrait {
    /// Runs the test only where the machine has what it needs, and fails it under CI when something is missing.
    ///
    /// On a developer's machine without, say, rclone, the test is skipped with "rclone is not installed (apt-get
    /// install rclone)". Under CI (see ``ContinuousIntegration/isActive``) the condition throws
    /// ``PrerequisiteMissing`` instead, which Swift Testing records as the test's failure: CI installs every client,
    /// so a missing one is a broken CI machine, not a reason to pass. Use this instead of checking inside the test
    /// body, so that no test returns early and counts as passed.
    ///
    /// - Parameters:
    ///   - commands: executables that must be on the PATH (`"rclone"`, `"python3"`, `"cc"`).
    ///   - python: modules `python3` must import (`"boto3"`, `"awscrt"`).
    ///   - root: whether the test must run as root.
    ///   - images: container images podman must have (built by `.ci/container-images`).
    ///   - postgres: whether the test needs a PostgreSQL server (see ``PostgresServer``).
    public static func requires(
        _ commands: String..., python: [String] = [], root: Bool = false, images: [String] = [],
        postgres: Bool = false
    ) -> Self {
        var prerequisites = commands.map(Prerequisite.command) + python.map(Prerequisite.pythonModule)
        if root { prerequisites.append(.root) }
        prerequisites += images.map(Prerequisite.containerImage)
        if postgres { prerequisites.append(.postgres) }
        let missing = prerequisites.filter { !$0.isMet }
        let comment = missing.isEmpty ? nil : Comment(rawValue: missing.map(\.missingMessage).joined(separator: "; "))
        return .enabled(if: try allowRun(missing: missing), comment)
    }

    private static func allowRun(missing: [Prerequisite]) throws -> Bool {
        guard !missing.isEmpty else { return true }
        guard ContinuousIntegration.isActive else { return false }
        throw PrerequisiteMissing(missing)
    }
}
