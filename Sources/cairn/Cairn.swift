import ArgumentParser
import Foundation

/// The `cairn` command: an artifact store and build cache for CI.
@main
struct Cairn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "An artifact store and build cache for CI, with an S3-compatible API.",
        subcommands: [Serve.self, Build.self, Gc.self, Token.self]
    )

    /// The exit status of an argument error (an unknown option, a missing value, a `ValidationError`): 2, as for
    /// every command that cannot start, where the argument parser's own default is 64.
    static let usageError: Int32 = 2

    /// Runs the command, as the argument parser's `main()` does, with ``usageError`` for argument errors.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            exit(withError: ExitCode(usageError))
        }
    }
}
