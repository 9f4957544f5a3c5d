import ArgumentParser

/// The `cairn` command: an artifact store and build cache for CI.
@main
struct Cairn: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "An artifact store and build cache for CI, with an S3-compatible API.",
        subcommands: [Serve.self, Build.self, Gc.self, Token.self]
    )
}
