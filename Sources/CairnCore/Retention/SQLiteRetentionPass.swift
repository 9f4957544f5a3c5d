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
                let name = "lifecycle:\(bucket):\(rule.id ?? "rule")"
                let (keys, keyArguments) = Self.ruleScope(rule, alias: "o")
                // Older than Days, or, once Date has come, whatever the age.
                var createdBefore: Double?
                if let days = rule.expirationDays {
                    createdBefore = nowSeconds - Double(days) * 86400
                } else if let date = rule.expirationDate, date.timeIntervalSince1970 <= nowSeconds {
                    createdBefore = .infinity
                }
                if let createdBefore {
                    report.expired[name, default: 0] += try await deleteObjects(
                        bucket: bucket, condition: "created_at < ? AND \(keys)",
                        arguments: [createdBefore] + keyArguments)
                }
                try await expireVersions(bucket: bucket, rule: rule, name: name, &report)
            }
            if let age = expiry.maximumAge {
                // In a bucket with versioning, the age limit holds for noncurrent versions too.
                report.expired["\(scope):age", default: 0] += try await deleteVersions(
                    bucket: bucket, condition: "noncurrent_at IS NOT NULL AND created_at < ?",
                    arguments: [nowSeconds - age])
            }
        }
    }

    /// A lifecycle rule's key prefix and tags as a condition on the row aliased `alias` (objects or versions).
    static func ruleScope(_ rule: LifecycleRule, alias: String) -> (String, [any DatabaseValueConvertible]) {
        let prefix = Array(rule.prefix.utf8)
        var condition = "\(alias).key >= ?"
        var arguments: [any DatabaseValueConvertible] = [Data(prefix)]
        if let upper = ObjectListing.successor(ofPrefix: prefix) {
            condition += " AND \(alias).key < ?"
            arguments.append(Data(upper))
        }
        // An object's tags are in its stored headers (JSON): it must carry each of the rule's.
        for tag in rule.tags ?? [] {
            condition += """
                 AND EXISTS (SELECT 1 FROM json_each(\(alias).headers, '$.tags') t
                 WHERE json_extract(t.value, '$.key') = ? AND json_extract(t.value, '$.value') = ?)
                """
            arguments += [tag.key, tag.value]
        }
        return (condition, arguments)
    }

    /// A rule's `NoncurrentVersionExpiration` (keeping the newest `NewerNoncurrentVersions` of each key) and
    /// `ExpiredObjectDeleteMarker`.
    private func expireVersions(
        bucket: String, rule: LifecycleRule, name: String, _ report: inout RetentionReport
    ) async throws {
        let (scope, scopeArguments) = Self.ruleScope(rule, alias: "v")
        if let days = rule.noncurrentDays {
            var condition = "noncurrent_at IS NOT NULL AND noncurrent_at < ? AND \(scope)"
            var arguments: [any DatabaseValueConvertible] = [nowSeconds - Double(days) * 86400] + scopeArguments
            if let newer = rule.newerNoncurrentVersions, newer > 0 {
                condition += """
                     AND (SELECT COUNT(*) FROM object_versions n WHERE n.bucket = v.bucket AND n.key = v.key
                          AND n.noncurrent_at IS NOT NULL AND n.ordinal > v.ordinal) >= ?
                    """
                arguments.append(newer)
            }
            report.expired["\(name):noncurrent", default: 0] += try await deleteVersions(
                bucket: bucket, condition: condition, arguments: arguments)
        }
        if rule.expiredObjectDeleteMarker == true {
            report.expired["\(name):delete-marker", default: 0] += try await deleteVersions(
                bucket: bucket,
                condition: """
                    delete_marker = 1 AND noncurrent_at IS NULL AND \(scope)
                    AND NOT EXISTS (SELECT 1 FROM object_versions n WHERE n.bucket = v.bucket AND n.key = v.key
                                    AND n.version_id <> v.version_id)
                    """,
                arguments: scopeArguments)
        }
    }

    /// Deletes a bucket's noncurrent versions (or lone delete markers) matching `condition` for good, none that
    /// object lock protects, a batch per transaction. The latest version of a key is never among them, so no
    /// key's current object changes.
    private func deleteVersions(bucket: String, condition: String, arguments: [any DatabaseValueConvertible])
        async throws -> Int
    {
        let arguments = arguments.map(\.databaseValue)
        var total = 0
        while true {
            let deleted = try await writer.write { db -> Int in
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT key, version_id FROM object_versions v WHERE bucket = ? AND \(condition)
                        AND NOT \(ObjectHeaders.lockedCondition(column: "v.headers")) LIMIT ?
                        """,
                    arguments: StatementArguments([bucket] + arguments + [lockArgument, batchSize]))
                let delete = try db.cachedStatement(
                    sql: "DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?")
                for row in rows {
                    try delete.execute(arguments: [bucket, row["key"] as Data, row["version_id"] as String])
                }
                return rows.count
            }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    private var lockArgument: DatabaseValue { ObjectHeaders.lockArgument(at: now).databaseValue }

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
                        AND NOT \(ObjectHeaders.lockedCondition(column: "o.headers"))
                        LIMIT ?
                        """,
                    arguments: StatementArguments([bucket] + arguments + [lockArgument, batchSize])
                )
                // In a bucket with versioning, expiring the current version hides it behind a delete marker and
                // keeps it as a noncurrent version, as S3's lifecycle does.
                let versioning = try String.fetchOne(
                    db, sql: "SELECT versioning FROM buckets WHERE name = ?", arguments: [bucket]
                ).flatMap(VersioningStatus.init(rawValue:))
                let delete = try db.cachedStatement(sql: "DELETE FROM objects WHERE bucket = ? AND key = ?")
                for key in keys {
                    switch versioning {
                    case nil: try delete.execute(arguments: [bucket, key])
                    case .enabled:
                        try SQLiteMetadataStore.insertDeleteMarker(
                            db, bucket: bucket, keyData: key, versionID: ObjectVersion.newVersionID(), at: now)
                    case .suspended:
                        try SQLiteMetadataStore.insertDeleteMarker(
                            db, bucket: bucket, keyData: key, versionID: ObjectInfo.nullVersionID, at: now)
                    }
                }
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
                if let upper = ObjectListing.successor(ofPrefix: prefix) {
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
         OR EXISTS (SELECT 1 FROM version_segments v WHERE v.digest = b.digest)
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
                            SELECT 'object' AS kind, bucket AS scope, key AS name, accessed_at, NULL AS version
                            FROM objects o
                            WHERE NOT EXISTS (SELECT 1 FROM retention_protected p WHERE p.bucket = o.bucket AND p.key = o.key)
                            AND NOT \(ObjectHeaders.lockedCondition(column: "o.headers"))
                            UNION ALL
                            SELECT 'version', bucket, key, noncurrent_at, version_id FROM object_versions v
                            WHERE delete_marker = 0 AND noncurrent_at IS NOT NULL
                            AND NOT \(ObjectHeaders.lockedCondition(column: "v.headers"))
                            UNION ALL
                            SELECT 'entry', namespace, CAST(key AS BLOB), accessed_at, NULL FROM action_entries
                        ) ORDER BY accessed_at LIMIT ?
                        """,
                    arguments: [lockArgument, lockArgument, min(batchSize, 100)]
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
                        try SQLiteMetadataStore.settleLatest(db, bucket: scope, keyData: name)
                    } else if kind == "version" {
                        let version: String = row["version"]
                        digests = try String.fetchAll(
                            db,
                            sql:
                                "SELECT DISTINCT digest FROM version_segments WHERE bucket = ? AND key = ? AND version_id = ?",
                            arguments: [scope, name, version])
                        try db.execute(
                            sql: "DELETE FROM object_versions WHERE bucket = ? AND key = ? AND version_id = ?",
                            arguments: [scope, name, version])
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
        try blobs.removeTemporaryFiles(before: now.addingTimeInterval(-policy.gracePeriod), dryRun: dryRun)
    }
}
