import ArgumentParser
import CairnCore
import CairnServer
import Foundation
import Logging

/// `cairn token`: bearer tokens for the build-cache routes, stored hashed in the data directory's metadata.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, list and revoke tokens for the build cache, the metrics and the web console.",
        discussion: """
            A token works as a Bearer token, or as the password of Basic auth (any user name), on the /_cairn/ \
            routes its scopes allow: cache (the build-cache protocols and `cairn build`, in the token's \
            namespace), metrics (GET /_cairn/metrics), console (reading every page of the web console, where the \
            token is the login form's secret) and admin (also deleting objects, managing tokens and running \
            retention). Tokens are read from the data directory on each request, so changes apply to a running \
            server at once.
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
        @Option(help: "The cache namespace the token may use, or * for all (the default without the cache scope).")
        var namespace: String?
        @Flag(name: .customLong("read-only"), help: "The token can read hits but never write (for untrusted builds).")
        var readOnly = false
        @Option(
            name: .customLong("scope"),
            help: """
                What the token may do: cache, metrics, console or admin; repeat it or separate with commas \
                (default: cache). console and admin need --namespace '*'.
                """)
        var scopeLists: [String] = []

        var scopes: Set<TokenScope> {
            get throws {
                let named = try scopeLists.reduce(into: Set<TokenScope>()) { $0.formUnion(try TokenScope.parse($1)) }
                return named.isEmpty ? TokenScope.defaults : named
            }
        }

        /// The namespace given, or `*` for a token without the cache scope, whose namespace limits nothing.
        var resolvedNamespace: String {
            get throws {
                if let namespace { return namespace }
                guard try !scopes.contains(.cache) else {
                    throw ValidationError("a token with the cache scope needs --namespace NAME (or '*' for all)")
                }
                return "*"
            }
        }

        func validate() throws {
            do {
                try CacheToken.validate(namespace: try resolvedNamespace, scopes: try scopes)
            } catch let error as TokenScopeError {
                throw ValidationError(error.message)
            }
        }

        func run() async throws {
            let (namespace, readOnly, scopes) = (try resolvedNamespace, readOnly, try scopes)
            let (token, secret) = try await location.withStore {
                try await $0.createToken(namespace: namespace, readOnly: readOnly, scopes: scopes)
            }
            print(secret)
            let access = token.readOnly ? ", read-only" : ""
            FileHandle.standardError.write(
                Data(
                    "token \(token.id) for namespace \(token.namespace)\(access), scopes \(TokenScope.text(token.scopes))\n"
                        .utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens (ids, never secrets): id, namespace, access, scopes, creation time.")

        @OptionGroup var location: Location

        func run() async throws {
            for token in try await location.withStore({ try await $0.tokens() }) {
                let created = token.createdAt.formatted(.iso8601)
                let access = token.readOnly ? "read-only" : "read-write"
                print("\(token.id)\t\(token.namespace)\t\(access)\t\(TokenScope.text(token.scopes))\t\(created)")
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
