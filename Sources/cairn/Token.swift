import ArgumentParser
import CairnCore
import CairnServer
import Foundation
import Logging

/// `cairn token`: bearer tokens for the build-cache routes, stored hashed in the data directory's metadata.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke build-cache tokens.",
        discussion: """
            A token works as a Bearer token, or as the password of Basic auth (any user name), on every \
            /_cairn/ cache route. Tokens are read from the data directory on each request, so changes apply to a \
            running server at once.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Location: ParsableArguments {
        @Option(
            name: .customLong("data-dir"), help: "The server's data directory (default storage/). Env: CAIRN_DATA_DIR.")
        var dataDirectory: String?

        @Option(
            name: .customLong("metadata-url"),
            help:
                "PostgreSQL metadata shared by several nodes, postgres://… (instead of --data-dir). Env: CAIRN_METADATA_URL."
        )
        var metadataURL: String?

        /// Runs `body` on the metadata: PostgreSQL's when a URL is given, else the data directory's SQLite.
        func withStore<Result: Sendable>(_ body: @Sendable (any MetadataStore) async throws -> Result) async throws
            -> Result
        {
            let environment = ProcessInfo.processInfo.environment
            guard let url = metadataURL ?? environment[ServerSetting.metadataURL.environmentVariable] else {
                return try await body(try open())
            }
            // The pool's warnings (a query queued before the pool's task began) are noise for a one-shot command.
            var logger = Logger(label: "cairn.token")
            logger.logLevel = .error
            let store = try PostgresMetadataStore(url: url, blobs: nil, logger: logger)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await store.run() }
                defer { group.cancelAll() }
                return try await body(store)
            }
        }

        func open() throws -> any MetadataStore {
            let directory =
                dataDirectory ?? ProcessInfo.processInfo.environment[ServerSetting.dataDirectory.environmentVariable]
                ?? ServerSettings().dataDirectory
            guard SQLiteMetadataStore.exists(dataDirectory: directory) else {
                throw ValidationError(
                    "\(directory) holds no Cairn metadata; start `cairn serve --data-dir \(directory)` once first")
            }
            return try SQLiteMetadataStore(dataDirectory: directory)
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it (shown only once).")

        @OptionGroup var location: Location
        @Option(help: "The cache namespace the token may use, or * for all.")
        var namespace: String
        @Flag(name: .customLong("read-only"), help: "The token can read hits but never write (for untrusted builds).")
        var readOnly = false

        func run() async throws {
            let (namespace, readOnly) = (namespace, readOnly)
            let (token, secret) = try await location.withStore {
                try await $0.createToken(namespace: namespace, readOnly: readOnly)
            }
            print(secret)
            FileHandle.standardError.write(
                Data("token \(token.id) for namespace \(token.namespace)\(token.readOnly ? ", read-only" : "")\n".utf8)
            )
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (ids, never secrets).")

        @OptionGroup var location: Location

        func run() async throws {
            for token in try await location.withStore({ try await $0.tokens() }) {
                let created = token.createdAt.formatted(.iso8601)
                print("\(token.id)\t\(token.namespace)\t\(token.readOnly ? "read-only" : "read-write")\t\(created)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id.")

        @OptionGroup var location: Location
        @Argument(help: "The token id, as `cairn token list` shows it.")
        var id: String

        func run() async throws {
            let id = id
            guard try await location.withStore({ try await $0.revokeToken(id: id) }) else {
                throw ValidationError("no token with id \(id)")
            }
            print("revoked \(id)")
        }
    }
}
