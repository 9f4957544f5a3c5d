import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

extension SQLiteMetadataStore {
    public func applyRetention(
        _ policy: RetentionPolicy, now: Date, dryRun: Bool, batchSize: Int
    ) async throws -> RetentionReport {
        guard dryRun else {
            return try await SQLiteRetentionPass(
                writer: pool, blobs: blobs, policy: policy, now: now, dryRun: false, batchSize: batchSize,
                objectsDeleted: { [cachedObjects] in cachedObjects.invalidateAll() }
            ).run()
        }
        let snapshot = blobs.temporaryDirectory + "/retention-dry-run-\(SecureRandom.bytes(6).hexString).sqlite"
        defer {
            for suffix in ["", "-wal", "-shm", "-journal"] { unlink(snapshot + suffix) }
        }
        let queue = try DatabaseQueue(path: snapshot)
        let pool = self.pool
        // SQLite's online backup reads a consistent snapshot without blocking the server's writers.
        try await blobs.threadPool.runIfActive { try pool.backup(to: queue) }
        return try await SQLiteRetentionPass(
            writer: queue, blobs: blobs, policy: policy, now: now, dryRun: true, batchSize: batchSize
        ).run()
    }
}
