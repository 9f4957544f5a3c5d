import GRDB

/// Group commit: concurrent metadata writes that arrive while a transaction is being committed are committed
/// together in the next one, each in its own savepoint.
///
/// With `synchronous = FULL` every commit costs an fsync; sixteen clients PUTting small objects would otherwise
/// queue behind sixteen fsyncs. One write's failure (a precondition, a missing blob) rolls back only its own
/// savepoint. A write that finds the queue idle starts one drain task, which commits batches until the queue is
/// empty and then ends, so no task outlives the writes it carries. Every writer, the one that started the drain
/// too, returns as soon as its own batch is durable: a writer that drained the queue itself would wait for every
/// batch that arrived meanwhile, which under steady load is seconds.
actor CommitQueue {
    typealias Work = @Sendable (Database) throws -> Void

    /// Run after the transaction that carried a successful work commits.
    typealias AfterCommit = @Sendable () -> Void

    private struct Pending {
        let work: Work
        let afterCommit: AfterCommit?
        let continuation: CheckedContinuation<Void, any Error>
    }

    private let writer: any DatabaseWriter
    private var pending: [Pending] = []
    private var draining = false

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` inside a write transaction shared with whatever else is waiting; returns once it is durable.
    ///
    /// - Parameter afterCommit: run if `work` succeeded, as its transaction commits, on the writer: in commit order
    ///   with every other write of the database (for caches that must never go back to an older version).
    func submit(_ work: @escaping Work, afterCommit: AfterCommit? = nil) async throws {
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Pending(work: work, afterCommit: afterCommit, continuation: continuation))
            guard !draining else { return }
            draining = true
            Task { await self.drain() }
        }
    }

    /// Commits everything waiting, batch after batch, until nothing is.
    private func drain() async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            let results = await commit(batch.map { ($0.work, $0.afterCommit) })
            for (item, result) in zip(batch, results) { item.continuation.resume(with: result) }
        }
        draining = false
    }

    /// Commits works in one transaction, each in its own savepoint; returns each one's outcome.
    private func commit(_ works: [(Work, AfterCommit?)]) async -> [Result<Void, any Error>] {
        do {
            return try await writer.write { db in
                var actions: [AfterCommit] = []
                let results = works.map { work, afterCommit in
                    Result {
                        try db.inSavepoint {
                            try work(db)
                            return .commit
                        }
                        if let afterCommit { actions.append(afterCommit) }
                    }
                }
                // One observer for the batch: GRDB's per-observer cost is paid once, not once per write.
                if !actions.isEmpty {
                    db.afterNextTransaction { [actions] _ in for action in actions { action() } }
                }
                return results
            }
        } catch {
            return Array(repeating: .failure(error), count: works.count)
        }
    }
}
