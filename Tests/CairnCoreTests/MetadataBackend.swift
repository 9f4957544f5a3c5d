import CairnCore
import CairnTestSupport
import Foundation
import Testing

/// The metadata engines the store-level tests run against: the embedded SQLite store always, PostgreSQL where a
/// server can be had (see ``PostgresServer``) and always under CI, where a missing one fails the tests instead.
enum MetadataBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    /// The engines to test here.
    static var available: [MetadataBackend] {
        PostgresServer.isAvailable || ContinuousIntegration.isActive ? allCases : [.sqlite]
    }

    var testDescription: String { rawValue }

    /// Runs `body` with a new store of this engine and the blob store its rows name (files in a new temporary
    /// directory); PostgreSQL gets a new database, its pool runs for the duration of `body`.
    func withStore(_ body: (any MetadataStore, FileBlobStore) async throws -> Void) async throws {
        try await withStore { metadata, blobs, _ in try await body(metadata, blobs) }
    }

    /// ``withStore(_:)``, also passing the temporary directory the blobs are in.
    func withStore(_ body: (any MetadataStore, FileBlobStore, String) async throws -> Void) async throws {
        let directory = try TemporaryDirectory(prefix: "cairn-meta")
        let blobs = try FileBlobStore(dataDirectory: directory.path)
        switch self {
        case .sqlite:
            try await body(try SQLiteMetadataStore(dataDirectory: directory.path), blobs, directory.path)
        case .postgres:
            let store = try PostgresMetadataStore(url: try await PostgresServer.shared.makeDatabase(), blobs: blobs)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await store.run() }
                do {
                    try await store.migrate()
                    try await body(store, blobs, directory.path)
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        }
        withExtendedLifetime(directory) {}
    }
}
