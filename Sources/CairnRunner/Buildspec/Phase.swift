/// One phase of a buildspec: its commands, its `finally` block and what to do when it fails.
public struct Phase: Sendable, Hashable {
    public var name: PhaseName
    /// `run-as` for this phase, when given.
    public var runAs: String?
    /// `on-failure`, when given; nil means CodeBuild's default transitions.
    public var onFailure: OnFailure?
    /// `runtime-versions` (install only), in file order.
    public var runtimeVersions: [Buildspec.NameValue] = []
    /// `commands`, in order.
    public var commands: [Command] = []
    /// `finally`, in order.
    public var finally: [Command] = []
}

/// One command of a phase, with the line of the buildspec it comes from.
public struct Command: Sendable, Hashable {
    /// The shell text, as written (a `|` block keeps its newlines).
    public var text: String
    /// The 1-based line in the buildspec.
    public var line: Int

    public init(text: String, line: Int) {
        self.text = text
        self.line = line
    }
}
