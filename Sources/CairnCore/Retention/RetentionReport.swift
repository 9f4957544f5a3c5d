import Foundation

/// What one retention run did (or, in a dry run, would do).
public struct RetentionReport: Sendable, Codable, Equatable {
    public var dryRun: Bool
    /// Objects and cache entries removed, by the rule that removed them (e.g. `bucket:logs:age`, `size-limit`).
    public var expired: [String: Int] = [:]
    /// Multipart uploads aborted.
    public var uploadsAborted = 0
    /// Blob files removed because nothing referenced them any more.
    public var blobsSwept = 0
    /// Bytes of those blobs.
    public var bytesFreed: Int64 = 0
    /// Temp files of uploads that never finished.
    public var temporaryFilesRemoved = 0
    /// Bytes referenced by live objects and entries after the run.
    public var referencedBytes: Int64 = 0
    public var durationSeconds: Double = 0
    /// True when another node held the cluster's retention lock, so this run did nothing (PostgreSQL metadata).
    public var ranElsewhere = false

    public init(dryRun: Bool) { self.dryRun = dryRun }

    /// The total number of entries removed.
    public var expiredCount: Int { expired.values.reduce(0, +) }

    /// One line for logs and the CLI.
    public var summary: String {
        if ranElsewhere { return "retention is running on another node; this run did nothing" }
        let rules = expired.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return """
            \(dryRun ? "dry run: would remove" : "removed") \(expiredCount) entries\(rules.isEmpty ? "" : " (\(rules))"), \
            \(uploadsAborted) stale uploads, \(blobsSwept) blobs (\(bytesFreed) bytes), \(temporaryFilesRemoved) temp files; \
            \(referencedBytes) bytes referenced; \(String(format: "%.3f", durationSeconds)) s
            """
    }
}
