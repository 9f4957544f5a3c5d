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
        try await withCheckedThrowingContinuation { continuation in
            pending.append(Pending(work: work, continuation: continuation))
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
            let results = await commit(batch.map(\.work))
            for (item, result) in zip(batch, results) { item.continuation.resume(with: result) }
        }
        draining = false
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
