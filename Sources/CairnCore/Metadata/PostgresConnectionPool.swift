import Logging
import PostgresNIO

/// The metadata store's `PostgresClient`, with every failure that means "the database cannot serve now" (it is down,
/// restarting, refusing connections, or it dropped the connection mid-query) thrown as ``StorageUnavailable``, so
/// the front ends answer 503 without knowing PostgreSQL.
///
/// The client reconnects on its own: once the database is back, the next request gets a new connection.
struct PostgresConnectionPool: Sendable {
    let client: PostgresClient

    /// Runs the pool until the task is cancelled.
    func run() async {
        await client.run()
    }

    /// Runs `query` and collects its rows (so that a connection lost mid-result is translated too).
    @discardableResult
    func query(_ query: PostgresQuery, logger: Logger) async throws -> [PostgresRow] {
        do {
            return try await client.query(query, logger: logger).collect()
        } catch {
            throw Self.translate(error)
        }
    }

    /// Leases a connection for `body`; the errors of `body` that say the connection failed are translated too.
    func withConnection<Result>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withConnection(body)
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
