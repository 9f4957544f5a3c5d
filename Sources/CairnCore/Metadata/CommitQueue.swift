import GRDB

/// Group commit: concurrent metadata writes that arrive while a transaction is being committed are committed
/// together in the next one, each in its own savepoint.
///
/// With `synchronous = FULL` every commit costs an fsync; sixteen clients PUTting small objects would otherwise
/// queue behind sixteen fsyncs. One write's failure (a precondition, a missing blob) rolls back only its own
/// savepoint. The caller that finds the queue idle commits batches until it is empty, so no task outlives the
/// writes it carries.
actor CommitQueue {
    typealias Work = @Sendable (Database) throws -> Void

    private struct Pending {
        let work: Work
        let continuation: CheckedContinuation<Void, any Error>
    }

    private let writer: any DatabaseWriter
    private var pending: [Pending] = []
    private var draining = false

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` inside a write transaction shared with whatever else is waiting; returns once it is durable.
    func submit(_ work: @escaping Work) async throws {
        if draining {
            try await withCheckedThrowingContinuation { continuation in
                pending.append(Pending(work: work, continuation: continuation))
            }
            return
        }
        // This caller commits: its own work first, then every batch that queued up meanwhile.
        draining = true
        defer { draining = false }
        var own: Result<Void, any Error>?
        repeat {
            let batch = pending
            pending = []
            var results = await commit((own == nil ? [work] : []) + batch.map(\.work))
            if own == nil { own = results.removeFirst() }
            for (item, result) in zip(batch, results) { item.continuation.resume(with: result) }
        } while !pending.isEmpty
        try own?.get()
    }

    /// Commits works in one transaction, each in its own savepoint; returns each one's outcome.
    private func commit(_ works: [Work]) async -> [Result<Void, any Error>] {
        do {
            return try await writer.write { db in
                works.map { work in
                    Result {
                        try db.inSavepoint {
                            try work(db)
                            return .commit
                        }
                    }
                }
            }
        } catch {
            return Array(repeating: .failure(error), count: works.count)
        }
    }
}
