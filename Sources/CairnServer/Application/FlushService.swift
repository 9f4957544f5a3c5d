import Logging
import ServiceLifecycle

/// Writes out what the server batches in memory on an interval, and once more when the server shuts down: the
/// access log's read times, the small blobs the journal holds (see `BlobJournal`), the console's samples of the
/// cache hit rate. A failed flush loses
/// nothing (the access times and blobs stay pending); the next one tries again.
struct FlushService: Service {
    /// What is flushed, for the log: "access times", "journaled blobs".
    let name: String
    let interval: Duration
    let logger: Logger
    let flush: @Sendable () async throws -> Void

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            await flushOnce()
        }
        await flushOnce()
    }

    private func flushOnce() async {
        do {
            try await flush()
        } catch {
            logger.warning("could not write \(name)", metadata: ["error": "\(error)"])
        }
    }
}
