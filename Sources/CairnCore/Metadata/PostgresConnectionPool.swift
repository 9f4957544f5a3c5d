import Logging
import NIOPosix
import PostgresNIO
import Synchronization

/// The metadata store's `PostgresClient`, with every failure that means "the database cannot serve now" (it is down,
/// restarting, refusing connections, or it dropped the connection mid-query) thrown as ``StorageUnavailable``, so
/// the front ends answer 503 without knowing PostgreSQL.
///
/// The client reconnects on its own: once the database is back, the next request gets a new connection. While it
/// cannot connect, the client's pool backs off and holds the requests waiting for a connection for about a minute
/// before it fails them (its circuit breaker, not configurable). This wrapper fails a waiting request sooner: once
/// it has waited `leaseTimeout` (the URL's `connect_timeout`) while no connection was in use and none was got or
/// given back, so a client sees 503 promptly while the database is unreachable, but a busy pool (every
/// connection in use, however long its queries take) only makes requests wait, as before. One watchdog per pool, on an event loop
/// rather than a Swift concurrency thread (which a loaded process may keep busy), looks at the waiting requests
/// ten times a second, so a request costs no timer of its own.
struct PostgresConnectionPool: Sendable {
    let client: PostgresClient
    /// How long a request waits for a connection before it is answered as unavailable.
    let leaseTimeout: Duration
    private let watchdog: LeaseWatchdog

    init(client: PostgresClient, leaseTimeout: Duration) {
        self.client = client
        self.leaseTimeout = leaseTimeout
        self.watchdog = LeaseWatchdog(leaseTimeout: leaseTimeout)
    }

    /// Runs the pool (and the watchdog of requests waiting for a connection) until the task is cancelled.
    func run() async {
        let ticks = MultiThreadedEventLoopGroup.singleton.any().scheduleRepeatedTask(
            initialDelay: .milliseconds(100), delay: .milliseconds(100)
        ) { [watchdog] _ in watchdog.expireOverdue() }
        await client.run()
        ticks.cancel()
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
        let waiter = LeaseWatchdog.Waiter(since: .now)
        // The lease runs in a task of its own so that the watchdog can cancel its wait; cancelling this request
        // cancels it too.
        let work = Task {
            try await client.withConnection { connection in
                guard waiter.claim(.leased) else { throw CancellationError() }
                watchdog.leased(waiter)
                defer { watchdog.released() }
                return try await body(connection)
            }
        }
        waiter.onTimeout { work.cancel() }
        watchdog.add(waiter)
        do {
            let result = try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
            watchdog.remove(waiter)
            return result
        } catch {
            watchdog.remove(waiter)
            if waiter.outcome == .timedOut {
                throw StorageUnavailable(
                    .metadata, "no PostgreSQL connection within \(leaseTimeout); the database may be down")
            }
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

/// The requests of one pool waiting for a connection, and when one last got a connection.
private final class LeaseWatchdog: Sendable {
    /// One request: whether it got its connection or timed out first (the loser does nothing, so a request either
    /// runs its body on a connection or is answered as unavailable, never both), and how to stop its wait.
    final class Waiter: Sendable, Hashable {
        enum Outcome { case leased, timedOut }
        /// When the request began to wait.
        let since: ContinuousClock.Instant
        private let state = Mutex<(outcome: Outcome?, cancel: (@Sendable () -> Void)?)>((nil, nil))

        init(since: ContinuousClock.Instant) { self.since = since }

        /// Says how to cancel the wait for a connection.
        func onTimeout(_ cancel: @escaping @Sendable () -> Void) {
            state.withLock { $0.cancel = cancel }
        }

        /// Cancels the wait for a connection.
        func cancelWait() {
            let cancel = state.withLock { $0.cancel }
            cancel?()
        }

        var outcome: Outcome? { state.withLock { $0.outcome } }

        /// True when `outcome` is the first claimed.
        func claim(_ outcome: Outcome) -> Bool {
            state.withLock { state in
                guard state.outcome == nil else { return false }
                state.outcome = outcome
                return true
            }
        }

        static func == (lhs: Waiter, rhs: Waiter) -> Bool { lhs === rhs }
        func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
    }

    let leaseTimeout: Duration
    /// The requests waiting, how many hold a connection now, and when one last got or gave back a connection.
    private let state: Mutex<(waiting: Set<Waiter>, inUse: Int, lastSeen: ContinuousClock.Instant)>

    init(leaseTimeout: Duration) {
        self.leaseTimeout = leaseTimeout
        self.state = Mutex(([], 0, .now))
    }

    func add(_ waiter: Waiter) { _ = state.withLock { $0.waiting.insert(waiter) } }
    func remove(_ waiter: Waiter) { _ = state.withLock { $0.waiting.remove(waiter) } }

    /// `waiter` got its connection: the database is reachable now.
    func leased(_ waiter: Waiter) {
        state.withLock { state in
            state.waiting.remove(waiter)
            state.inUse += 1
            state.lastSeen = .now
        }
    }

    /// A request gave its connection back.
    func released() {
        state.withLock { state in
            state.inUse -= 1
            state.lastSeen = .now
        }
    }

    /// Cancels the waits of more than ``leaseTimeout`` when the database looks unreachable: no connection is in use
    /// and none was got or given back within that time. (A pool whose connections are all busy only makes
    /// requests wait.)
    func expireOverdue() {
        let now = ContinuousClock.now
        let expired = state.withLock { state -> [Waiter] in
            guard state.inUse == 0, now - state.lastSeen >= leaseTimeout else { return [] }
            let expired = state.waiting.filter { now - $0.since >= leaseTimeout }
            state.waiting.subtract(expired)
            return Array(expired)
        }
        for waiter in expired where waiter.claim(.timedOut) {
            waiter.cancelWait()
        }
    }
}
