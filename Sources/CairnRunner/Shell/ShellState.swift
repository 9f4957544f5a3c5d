/// What a shell session carries from command to command: exported variables and the working directory.
public struct ShellState: Sendable, Hashable {
    public var environment: [String: String]
    public var workingDirectory: String
    /// Variables that are not exported: name → the assignment as the shell's `set` prints it.
    public var variables: [String: String] = [:]
}
