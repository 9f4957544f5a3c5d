import CairnTestSupport
import Foundation
import PostgresNIO
import Testing

@testable import CairnCore

/// A node whose PostgreSQL cannot be reached answers each request with ``StorageUnavailable`` once it has waited the
/// URL's `connect_timeout`, instead of holding it while the connection pool backs off; a pool that is only busy
/// makes requests wait.
@Suite("PostgreSQL unreachable")
struct PostgresUnreachableTests {
    @Test("with nothing listening, requests fail as unavailable after the URL's connect_timeout, again and again")
    func unreachableFailsAfterTheConnectTimeout() async throws {
        let port = try PostgresServer.unusedPort()
        let store = try PostgresMetadataStore(
            url: "postgres://cairn@127.0.0.1:\(port)/cairn?connect_timeout=2", blobs: nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            // Several requests in a row: the first, and those made while the pool keeps failing to connect.
            for attempt in 0..<4 {
                let clock = ContinuousClock()
                let started = clock.now
                let error = await #expect(throws: StorageUnavailable.self, "attempt \(attempt)") {
                    _ = try await store.buckets()
                }
                print("attempt \(attempt): \(clock.now - started), \(error.map(String.init(describing:)) ?? "")")
                if attempt == 0 {
                    // The wait's bound answered, not the pool's own circuit breaker (which takes 15 s or more).
                    #expect(
                        error?.message.contains("no PostgreSQL connection within 2") == true,
                        "\(String(describing: error))")
                }
            }
        }
    }

    @Test(
        "a pool whose only connection is busy for longer than connect_timeout makes the next request wait, not fail",
        .requires(postgres: true))
    func busyPoolWaits() async throws {
        let url = try await PostgresServer.shared.makeDatabase()
        _ = try await PostgresMetadataStore.migrate(url: url, logger: Logger(label: "cairn.test"))
        let store = try PostgresMetadataStore(url: url + "?connect_timeout=1", blobs: nil, maximumConnections: 1)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            try await store.createBucket("b")
            async let slow: Void = store.client.withConnection { connection in
                try await connection.query("SELECT pg_sleep(3)", logger: Logger(label: "cairn.test")).collect()
                return ()
            }
            try await Task.sleep(for: .milliseconds(300))
            // Waits for the one connection for about 2.7 s, well past the timeout of 1 s, and is answered.
            #expect(try await store.buckets().map(\.name) == ["b"])
            try await slow
        }
    }
}
