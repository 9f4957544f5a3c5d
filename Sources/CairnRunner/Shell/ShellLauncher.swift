/// How the build's shell process is started: directly on the host, or through a program that starts it elsewhere
/// (a sandbox with its own mounts, a container).
public struct ShellLauncher: Sendable {
    /// The command line that starts `shell` in `workingDirectory` (argument 0 is an executable's path), and the
    /// directory to start that command in.
    public var command:
        @Sendable (_ shell: String, _ workingDirectory: String) -> (arguments: [String], directory: String)
    /// Whether the started process's environment reaches the shell. A container's shell starts from its image's
    /// environment instead, and the session sets the build's variables in it before the first command.
    public var passesEnvironment: Bool

    public init(
        passesEnvironment: Bool,
        command:
            @escaping @Sendable (_ shell: String, _ workingDirectory: String) -> (
                arguments: [String], directory: String
            )
    ) {
        self.passesEnvironment = passesEnvironment
        self.command = command
    }

    /// The shell itself, started in the working directory.
    public static let direct = ShellLauncher(passesEnvironment: true) { shell, directory in ([shell], directory) }
}
