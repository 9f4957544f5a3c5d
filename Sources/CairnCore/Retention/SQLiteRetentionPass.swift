import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#endif

/// One retention run over one SQLite database (the live one, or a dry run's snapshot): the queries behind
/// ``SQLiteMetadataStore``'s ``MetadataStore/applyRetention(_:now:dryRun:batchSize:)``.
///
/// Blob files are removed inside the same write transaction that deletes their rows, and writers check their
/// blobs inside theirs, so the two cannot interleave.
struct SQLiteRetentionPass {
    let writer: any DatabaseWriter
    let blobs: FileBlobStore
    let policy: RetentionPolicy
    let now: Date
    let dryRun: Bool
    let batchSize: Int
    /// Called after each transaction that deleted objects has committed (the live store's cache forgets them).
    var objectsDeleted: @Sendable () -> Void = {}

    private var nowSeconds: Double { now.timeIntervalSince1970 }

    func run() async throws -> RetentionReport {
        var report = RetentionReport(dryRun: dryRun)
        try await markProtectedArtifacts()
        try await expireObjects(&report)
        try await expireEntries(&report)
        try await abortStaleUploads(&report)
        try await enforceSizeLimit(&report)
        try await sweepBlobs(&report)
        report.temporaryFilesRemoved = try removeTemporaryFiles()
        report.referencedBytes = try await writer.read { db in try Self.referencedBytes(db) }
        return report
    }

    // MARK: Protected runner artifacts

    /// Objects tagged with the ``ArtifactTag`` keys (`x-amz-meta-cairn-project`, `x-amz-meta-cairn-build`) belong to
    /// runner builds; the newest `keepLastBuilds` builds of each project are kept whatever the rules say.
    private func markProtectedArtifacts() async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    CREATE TEMP TABLE IF NOT EXISTS retention_protected (bucket TEXT NOT NULL, key BLOB NOT NULL,
                                                                        PRIMARY KEY (bucket, key));
                    DELETE FROM retention_protected;
                    """
            )
            guard let keep = policy.keepLastBuilds, keep > 0 else { return }
            try db.execute(
                sql: """
                    WITH tagged AS (
                        SELECT bucket, key,
                               json_extract(headers, '$.userMetadata."\(ArtifactTag.project)"') AS project,
                               CAST(json_extract(headers, '$.userMetadata."\(ArtifactTag.build)"') AS INTEGER) AS build
                        FROM objects
                        WHERE json_extract(headers, '$.userMetadata."\(ArtifactTag.project)"') IS NOT NULL
                    ),
                    builds AS (SELECT DISTINCT project, build FROM tagged),
                    kept AS (
                        SELECT project, build FROM builds b
                        WHERE (SELECT COUNT(*) FROM builds n WHERE n.project = b.project AND n.build > b.build) < ?
                    )
                    INSERT OR IGNORE INTO retention_protected (bucket, key)
                    SELECT t.bucket, t.key FROM tagged t JOIN kept k ON k.project = t.project AND k.build = t.build
                    """,
                arguments: [keep]
            )
        }
    }

    // MARK: Expiry

    private func expireObjects(_ report: inout RetentionReport) async throws {
        let buckets = try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM buckets ORDER BY name")
        }
        for bucket in buckets {
            let expiry = policy.expiry(bucket: bucket)
            let scope = policy.scope(bucket: bucket)
            if let age = expiry.maximumAge {
                report.expired["\(scope):age", default: 0] += try await deleteObjects(
                    bucket: bucket, condition: "created_at < ?", arguments: [nowSeconds - age]
                )
            }
            if let idle = expiry.maximumIdle {
                report.expired["\(scope):idle", default: 0] += try await deleteObjects(
                    bucket: bucket, condition: "accessed_at < ?", arguments: [nowSeconds - idle]
                )
            }
            for rule in try await lifecycleRules(bucket) where rule.enabled {
                guard let days = rule.expirationDays else { continue }
                let prefix = Array(rule.prefix.utf8)
                var condition = "created_at < ? AND key >= ?"
                var arguments: [any DatabaseValueConvertible] = [nowSeconds - Double(days) * 86400, Data(prefix)]
                if let upper = SQLiteMetadataStore.successorOfPrefix(prefix) {
                    condition += " AND key < ?"
                    arguments.append(Data(upper))
                }
                report.expired["lifecycle:\(bucket):\(rule.id ?? "rule")", default: 0] += try await deleteObjects(
                    bucket: bucket, condition: condition, arguments: arguments
                )
            }
        }
    }

    private func lifecycleRules(_ bucket: String) async throws -> [LifecycleRule] {
        try await writer.read { db in
            guard
                let text = try String.fetchOne(
                    db, sql: "SELECT rules FROM bucket_lifecycle WHERE bucket = ?", arguments: [bucket])
            else { return [] }
            return try JSONDecoder().decode([LifecycleRule].self, from: Data(text.utf8))
        }
    }

    /// Deletes a bucket's unprotected objects matching `condition`, a batch per transaction.
    private func deleteObjects(bucket: String, condition: String, arguments: [any DatabaseValueConvertible])
        async throws -> Int
    {
        let arguments = arguments.map(\.databaseValue)
        var total = 0
        while true {
            let deleted = try await writer.write { db -> Int in
                let keys = try Data.fetchAll(
                    db,
                    sql: """
                        SELECT key FROM objects o WHERE bucket = ? AND \(condition)
                        AND NOT EXISTS (SELECT 1 FROM retention_protected p WHERE p.bucket = o.bucket AND p.key = o.key)
                        LIMIT ?
                        """,
                    arguments: StatementArguments([bucket] + arguments + [batchSize])
                )
                let delete = try db.cachedStatement(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?")
                for key in keys { try delete.execute(arguments: [bucket, key]) }
                return keys.count
            }
            if deleted > 0 { objectsDeleted() }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    private func expireEntries(_ report: inout RetentionReport) async throws {
        let namespaces = try await writer.read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT namespace FROM action_entries ORDER BY namespace")
        }
        for namespace in namespaces {
            let expiry = policy.expiry(namespace: namespace)
            guard !expiry.isEmpty else { continue }
            let scope = policy.scope(namespace: namespace)
            if let age = expiry.maximumAge {
                report.expired["\(scope):age", default: 0] += try await deleteEntries(
                    namespace: namespace, condition: "created_at < ?", argument: nowSeconds - age
                )
            }
            if let idle = expiry.maximumIdle {
                report.expired["\(scope):idle", default: 0] += try await deleteEntries(
                    namespace: namespace, condition: "accessed_at < ?", argument: nowSeconds - idle
                )
            }
        }
    }

    private func deleteEntries(namespace: String, condition: String, argument: Double) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await writer.write { db -> Int in
                let keys = try String.fetchAll(
                    db, sql: "SELECT key FROM action_entries WHERE namespace = ? AND \(condition) LIMIT ?",
                    arguments: [namespace, argument, batchSize]
                )
                let delete = try db.cachedStatement(sql: "DELETE FROM action_entries WHERE namespace = ? AND key = ?")
                for key in keys { try delete.execute(arguments: [namespace, key]) }
                return keys.count
            }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    // MARK: Multipart uploads

    private func abortStaleUploads(_ report: inout RetentionReport) async throws {
        if let after = policy.abortIncompleteUploadsAfter {
            report.uploadsAborted += try await abortUploads(
                condition: "created_at < ?", arguments: [nowSeconds - after])
        }
        let buckets = try await writer.read { db in try String.fetchAll(db, sql: "SELECT bucket FROM bucket_lifecycle")
        }
        for bucket in buckets {
            for rule in try await lifecycleRules(bucket) where rule.enabled {
                guard let days = rule.abortIncompleteUploadDays else { continue }
                let prefix = Array(rule.prefix.utf8)
                var condition = "bucket = ? AND created_at < ? AND key >= ?"
                var arguments: [any DatabaseValueConvertible] = [
                    bucket, nowSeconds - Double(days) * 86400, Data(prefix),
                ]
                if let upper = SQLiteMetadataStore.successorOfPrefix(prefix) {
                    condition += " AND key < ?"
                    arguments.append(Data(upper))
                }
                report.uploadsAborted += try await abortUploads(condition: condition, arguments: arguments)
            }
        }
    }

    private func abortUploads(condition: String, arguments: [any DatabaseValueConvertible]) async throws -> Int {
        let arguments = arguments.map(\.databaseValue)
        var total = 0
        while true {
            let aborted = try await writer.write { db -> Int in
                let ids = try String.fetchAll(
                    db, sql: "SELECT upload_id FROM uploads WHERE \(condition) LIMIT ?",
                    arguments: StatementArguments(arguments + [batchSize])
                )
                for id in ids { try db.execute(sql: "DELETE FROM uploads WHERE upload_id = ?", arguments: [id]) }
                return ids.count
            }
            total += aborted
            if aborted < batchSize { return total }
        }
    }

    // MARK: Size limit

    static let referencedCondition = """
        (EXISTS (SELECT 1 FROM object_segments s WHERE s.digest = b.digest)
         OR EXISTS (SELECT 1 FROM upload_parts p WHERE p.digest = b.digest)
         OR EXISTS (SELECT 1 FROM action_entry_blobs e WHERE e.digest = b.digest))
        """

    static func referencedBytes(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM blobs b WHERE \(referencedCondition)") ?? 0
    }

    /// Above the high watermark, deletes the least recently read objects and entries until the referenced bytes
    /// are at or below the low watermark.
    private func enforceSizeLimit(_ report: inout RetentionReport) async throws {
        guard let high = policy.highWatermark else { return }
        let low = policy.lowWatermark ?? high / 10 * 9
        var referenced = try await writer.read { db in try Self.referencedBytes(db) }
        guard referenced > high else { return }
        var evicted = 0
        while referenced > low {
            let current = referenced
            let (count, freed) = try await writer.write { db -> (Int, Int64) in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT * FROM (
                            SELECT 'object' AS kind, bucket AS scope, key AS name, accessed_at FROM objects o
                            WHERE NOT EXISTS (SELECT 1 FROM retention_protected p WHERE p.bucket = o.bucket AND p.key = o.key)
                            UNION ALL
                            SELECT 'entry', namespace, CAST(key AS BLOB), accessed_at FROM action_entries
                        ) ORDER BY accessed_at LIMIT ?
                        """,
                    arguments: [min(batchSize, 100)]
                )
                var freed: Int64 = 0
                var count = 0
                for row in rows {
                    let kind: String = row["kind"]
                    let scope: String = row["scope"]
                    let name: Data = row["name"]
                    let digests: [String]
                    if kind == "object" {
                        digests = try String.fetchAll(
                            db, sql: "SELECT DISTINCT digest FROM object_segments WHERE bucket = ? AND key = ?",
                            arguments: [scope, name]
                        )
                        try db.execute(
                            sql: "DELETE FROM objects WHERE bucket = ? AND key = ?", arguments: [scope, name])
                    } else {
                        let key = String(decoding: name, as: UTF8.self)
                        digests = try String.fetchAll(
                            db, sql: "SELECT digest FROM action_entry_blobs WHERE namespace = ? AND key = ?",
                            arguments: [scope, key]
                        )
                        try db.execute(
                            sql: "DELETE FROM action_entries WHERE namespace = ? AND key = ?", arguments: [scope, key])
                    }
                    count += 1
                    for digest in digests {
                        freed +=
                            try Int64.fetchOne(
                                db,
                                sql: "SELECT size FROM blobs b WHERE digest = ? AND NOT \(Self.referencedCondition)",
                                arguments: [digest]
                            ) ?? 0
                    }
                    if current - freed <= low { break }
                }
                return (count, freed)
            }
            if count == 0 { break }
            objectsDeleted()
            evicted += count
            referenced -= freed
        }
        report.expired["size-limit", default: 0] += evicted
    }

    // MARK: Sweep

    /// Removes blobs that nothing names and that nothing has named for the grace period: the file first, then the
    /// row, in one write transaction per batch.
    private func sweepBlobs(_ report: inout RetentionReport) async throws {
        let cutoff = nowSeconds - policy.gracePeriod
        var lastDigest = ""
        while true {
            let after = lastDigest
            let (count, bytes, last) = try await writer.write { db -> (Int, Int64, String?) in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT digest, size FROM blobs b
                        WHERE digest > ? AND created_at < ? AND NOT \(Self.referencedCondition)
                        ORDER BY digest LIMIT ?
                        """,
                    arguments: [after, cutoff, batchSize]
                )
                var bytes: Int64 = 0
                for row in rows {
                    let hex: String = row["digest"]
                    bytes += row["size"] as Int64
                    if !dryRun, let digest = BlobDigest(hex: hex) {
                        let path = blobs.path(for: digest)
                        if unlink(path) != 0 && errno != ENOENT {
                            throw BlobStoreError.system("remove", path: path, errno: errno)
                        }
                        blobs.journal?.forget(digest)
                        try db.execute(sql: "DELETE FROM small_blobs WHERE digest = ?", arguments: [hex])
                    }
                    try db.execute(sql: "DELETE FROM blobs WHERE digest = ?", arguments: [hex])
                }
                return (rows.count, bytes, rows.last.map { $0["digest"] as String })
            }
            report.blobsSwept += count
            report.bytesFreed += bytes
            guard let last, count == batchSize else { return }
            lastDigest = last
        }
    }

    /// Temp files of uploads that stopped writing more than the grace period ago.
    private func removeTemporaryFiles() throws -> Int {
        let directory = blobs.temporaryDirectory
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        var removed = 0
        for name in names where name.hasPrefix("upload-") {
            let path = "\(directory)/\(name)"
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let modified = Double(info.st_mtim.tv_sec)
            if modified < nowSeconds - policy.gracePeriod {
                if !dryRun { unlink(path) }
                removed += 1
            }
        }
        return removed
    }
}
