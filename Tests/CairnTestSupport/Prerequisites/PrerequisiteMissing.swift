/// A gated test ran under CI on a machine without what it needs: the test fails with this.
public struct PrerequisiteMissing: Error, CustomStringConvertible {
    /// One line per missing prerequisite, each saying how to install it.
    public let description: String

    public init(_ missing: [Prerequisite]) {
        description =
            missing.map(\.missingMessage).joined(separator: "; ")
            + "; CI must have it (.ci/run installs every client the tests use)"
    }
}
