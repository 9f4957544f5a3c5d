import CairnCore
import CairnTestSupport
import Foundation
import Testing

/// A node whose PostgreSQL cannot be reached answers each request with ``StorageUnavailable`` after the URL's
/// `connect_timeout`, instead of holding it while the connection pool backs off.
@Suite("PostgreSQL unreachable")
struct PostgresUnreachableTests {
    @Test("with nothing listening, requests fail as unavailable within the URL's connect_timeout, again and again")
    func unreachableFailsWithinTheConnectTimeout() async throws {
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
                await #expect(throws: StorageUnavailable.self, "attempt \(attempt)") {
                    _ = try await store.buckets()
                }
                let waited = started.duration(to: clock.now)
                print("attempt \(attempt): unavailable after \(waited)")
                // Far above the 2 s asked for, far below the minute the pool's own back-off held requests.
                #expect(waited < .seconds(20), "attempt \(attempt) waited \(waited)")
            }
        }
    }
}
