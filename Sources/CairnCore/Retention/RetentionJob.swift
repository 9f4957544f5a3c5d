import Foundation

/// Enforces a ``RetentionPolicy``: expires objects and cache entries, aborts stale uploads, evicts the least
/// recently read entries above the size limit, then sweeps blobs nothing references any more.
///
/// Metadata goes first and blobs last: a blob is removed only when no object, part or entry names it and it has
/// not been named for the grace period, so a readable entry never names a missing blob and an upload in flight is
/// never swept. Work is done in batches of a bounded size, each its own transaction: memory does not grow with the
/// store, and a job killed at any point leaves a consistent store that the next run finishes. A dry run works on a
/// snapshot of the metadata and touches no blob. The queries are the metadata engine's own
/// (``MetadataStore/applyRetention(_:now:dryRun:batchSize:)``; SQLite's are in ``SQLiteRetentionPass``).
public struct RetentionJob: Sendable {
    let metadata: any MetadataStore
    let policy: RetentionPolicy
    let batchSize: Int

    public init(metadata: any MetadataStore, policy: RetentionPolicy, batchSize: Int = 1000) {
        self.metadata = metadata
        self.policy = policy
        self.batchSize = batchSize
    }

    /// Runs once, evaluating ages against `now`.
    public func run(now: Date = Date(), dryRun: Bool = false) async throws -> RetentionReport {
        let started = Date()
        var report = try await metadata.applyRetention(policy, now: now, dryRun: dryRun, batchSize: batchSize)
        report.durationSeconds = Date().timeIntervalSince(started)
        return report
    }
}
