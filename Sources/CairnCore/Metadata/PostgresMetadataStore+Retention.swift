import Foundation
import PostgresNIO

extension PostgresMetadataStore {
    /// The advisory lock key that lets one node at a time run retention (`'cairn.retain'` as a 64-bit number).
    static let retentionLock: Int64 = 0x6361_6972_6e2e_7274

    /// Applies a retention policy on the node that holds the cluster's retention lock; a node that finds another
    /// running returns an empty report (``RetentionReport/ranElsewhere``) at once. The lock is a session lock: a
    /// node that dies mid-run loses its connection and with it the lock, and the next run finishes the work.
    public func applyRetention(
        _ policy: RetentionPolicy, now: Date, dryRun: Bool, batchSize: Int
    ) async throws -> RetentionReport {
        let blobs = try self.blobs
        // Every node cleans its own staging directory, whichever node holds the retention lock.
        let temporaryFiles = try blobs.removeTemporaryFiles(
            before: now.addingTimeInterval(-policy.gracePeriod), dryRun: dryRun)
        var report = try await client.withConnection { connection in
            let pass = PostgresRetentionPass(
                store: self, connection: connection, blobs: blobs, policy: policy, now: now, dryRun: dryRun,
                batchSize: batchSize, logger: self.logger)
            guard !dryRun else {
                // One snapshot for the whole dry run, rolled back: it changes nothing and removes no blob.
                try await self.rows("BEGIN ISOLATION LEVEL REPEATABLE READ", on: connection)
                do {
                    let report = try await pass.run()
                    try await self.rows("ROLLBACK", on: connection)
                    return report
                } catch {
                    _ = try? await self.rows("ROLLBACK", on: connection)
                    throw error
                }
            }
            let locked =
                try await self.rows(
                    "SELECT pg_try_advisory_lock(\(Self.retentionLock))", on: connection
                ).first?.decode(Bool.self) ?? false
            guard locked else {
                var report = RetentionReport(dryRun: false)
                report.ranElsewhere = true
                return report
            }
            do {
                let report = try await pass.run()
                try await self.rows("SELECT pg_advisory_unlock(\(Self.retentionLock))", on: connection)
                return report
            } catch {
                _ = try? await self.rows("SELECT pg_advisory_unlock(\(Self.retentionLock))", on: connection)
                throw error
            }
        }
        report.temporaryFilesRemoved = temporaryFiles
        return report
    }
}
