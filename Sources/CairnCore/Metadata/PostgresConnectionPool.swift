import Logging
import PostgresNIO
import Synchronization

/// The metadata store's `PostgresClient`, with every failure that means "the database cannot serve now" (it is down,
/// restarting, refusing connections, or it dropped the connection mid-query) thrown as ``StorageUnavailable``, so
/// the front ends answer 503 without knowing PostgreSQL.
///
/// The client reconnects on its own: once the database is back, the next request gets a new connection. While it
/// cannot connect, the client's pool backs off and holds the requests waiting for a connection for about a minute
/// before it fails them (its circuit breaker, not configurable); this wrapper fails a request that got no
/// connection within `leaseTimeout` instead (the URL's `connect_timeout`), so a client sees 503 promptly.
struct PostgresConnectionPool: Sendable {
    let client: PostgresClient
    /// How long a request waits for a connection before it is answered as unavailable.
    let leaseTimeout: Duration
    /// Runs the pool until the task is cancelled.
    func run() async {
        await client.run()
    }

    /// Runs `query` and collects its rows (so that a connection lost mid-result is translated too).
    @discardableResult
    func query(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        try await withConnection { connection in
            try await connection.query(query, logger: logger).collect()
        }
    }

    /// Leases a connection for `body`; the errors of `body` that say the connection failed are translated too.
    ///
    /// `body` starts only if a connection came within ``leaseTimeout``; once it has started it runs to its end,
    /// however long it takes (the timeout bounds the wait for a connection, not the work).
    func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let lease = LeaseRace()
        do {
            return try await withThrowingTaskGroup(of: Result?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        guard lease.claim(.leased) else { throw CancellationError() }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try? await Task.sleep(for: leaseTimeout)
                    guard lease.claim(.timedOut) else { return nil }
                    throw StorageUnavailable(
                        .metadata, "no PostgreSQL connection within \(leaseTimeout); the database may be down")
                }
                while let next = try await group.next() {
                    if let result = next {
                        group.cancelAll()
                        return result
                    }
                }
                throw CancellationError()
            }
        } catch let error as StorageUnavailable {
            throw error
        } catch {
            throw Self.translate(error)
        }
    }

    /// `error` as ``StorageUnavailable`` when it says the database cannot serve now; otherwise `error` itself.
    static func translate(_ error: any Error) -> any Error {
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
                return StorageUnavailable(.metadata, "PostgreSQL connection failed: \(error.code)")
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                // 08: connection exception; 57P01-03: shutting down or starting up; 53: out of connections or
                // memory; 40001/40P01: a serialization failure or deadlock, which a retry resolves.
                if state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") || state == "40001"
                    || state == "40P01"
                {
                    let text = error.serverInfo?[.message] ?? ""
                    return StorageUnavailable(.metadata, "PostgreSQL answered \(state) \(text)")
                }
                return error
            default:
                return error
            }
        }
        // The pool's own error (its module is not public API): thrown when no connection could be made for a while
        // (the circuit breaker) or the pool is shutting down.
        if String(describing: type(of: error)) == "ConnectionPoolError" {
            return StorageUnavailable(.metadata, "no connection to PostgreSQL could be made: \(error)")
        }
        return error
    }
}

/// Which of a request's lease and its timeout came first; the loser does nothing, so a request either runs its body
/// on a connection or is answered as unavailable, never both.
private final class LeaseRace: Sendable {
    enum Outcome { case leased, timedOut }
    private let winner = Mutex<Outcome?>(nil)

    /// True when `outcome` is the first claimed.
    func claim(_ outcome: Outcome) -> Bool {
        winner.withLock { winner in
            guard winner == nil else { return false }
            winner = outcome
            return true
        }
    }
}
