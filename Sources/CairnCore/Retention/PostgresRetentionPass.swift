import Foundation
import Logging
import PostgresNIO

/// One retention run over PostgreSQL: the queries behind ``PostgresMetadataStore``'s
/// ``MetadataStore/applyRetention(_:now:dryRun:batchSize:)``, on one connection that holds the cluster-wide
/// retention lock for the whole run.
///
/// A live run commits each batch on its own. The sweep deletes a batch of `blobs` rows (locked, re-checked in a
/// fresh snapshot), removes those blobs from the blob store, then commits: a writer naming one of them waits on
/// the row lock and then finds the blob gone (`blobMissing`, which the client retries), and a node killed between
/// the removal and the commit leaves rows for blobs already removed, which the next run deletes (removing a missing
/// blob is not an error). A dry run runs every step in one transaction that is rolled back, and removes no blob.
struct PostgresRetentionPass {
    let store: PostgresMetadataStore
    let connection: PostgresConnection
    let blobs: any BlobStore
    let policy: RetentionPolicy
    let now: Date
    let dryRun: Bool
    let batchSize: Int
    let logger: Logger

    private var nowSeconds: Double { now.timeIntervalSince1970 }

    func run() async throws -> RetentionReport {
        var report = RetentionReport(dryRun: dryRun)
        try await markProtectedArtifacts()
        try await expireObjects(&report)
        try await expireEntries(&report)
        try await abortStaleUploads(&report)
        try await enforceSizeLimit(&report)
        try await sweepBlobs(&report)
        report.referencedBytes = try await referencedBytes()
        return report
    }

    @discardableResult
    private func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }

    /// One batch: its own transaction in a live run, part of the dry run's single transaction otherwise.
    private func batch<Result>(_ body: () async throws -> Result) async throws -> Result {
        guard !dryRun else { return try await body() }
        try await rows("BEGIN")
        do {
            let result = try await body()
            try await rows("COMMIT")
            return result
        } catch {
            _ = try? await rows("ROLLBACK")
            throw error
        }
    }

    // MARK: Protected runner artifacts

    /// The newest `keepLastBuilds` builds of each project (objects tagged with ``ArtifactTag``), kept whatever the
    /// rules say, in a temporary table of this connection.
    private func markProtectedArtifacts() async throws {
        try await rows(
            """
            CREATE TEMP TABLE IF NOT EXISTS retention_protected (
                bucket text NOT NULL, key bytea NOT NULL, PRIMARY KEY (bucket, key))
            """)
        try await rows("DELETE FROM retention_protected")
        guard let keep = policy.keepLastBuilds, keep > 0 else { return }
        try await rows(
            """
            WITH tagged AS (
                SELECT bucket, key, headers::jsonb -> 'userMetadata' ->> \(ArtifactTag.project) AS project,
                       headers::jsonb -> 'userMetadata' ->> \(ArtifactTag.build) AS build_text
                FROM objects WHERE headers::jsonb -> 'userMetadata' ? \(ArtifactTag.project)
            ),
            numbered AS (
                SELECT bucket, key, project,
                       CASE WHEN build_text ~ '^-?[0-9]{1,18}$' THEN build_text::int8 ELSE 0 END AS build
                FROM tagged
            ),
            builds AS (SELECT DISTINCT project, build FROM numbered),
            kept AS (
                SELECT project, build FROM builds b
                WHERE (SELECT COUNT(*) FROM builds n WHERE n.project = b.project AND n.build > b.build) < \(keep)
            )
            INSERT INTO retention_protected (bucket, key)
            SELECT t.bucket, t.key FROM numbered t JOIN kept k ON k.project = t.project AND k.build = t.build
            ON CONFLICT DO NOTHING
            """)
    }

    // MARK: Expiry

    private func expireObjects(_ report: inout RetentionReport) async throws {
        let buckets = try await rows("SELECT name FROM buckets ORDER BY name").map { try $0.decode(String.self) }
        for bucket in buckets {
            let expiry = policy.expiry(bucket: bucket)
            let scope = policy.scope(bucket: bucket)
            if let age = expiry.maximumAge {
                report.expired["\(scope):age", default: 0] += try await deleteObjects(
                    bucket: bucket, column: "created_at", before: nowSeconds - age)
            }
            if let idle = expiry.maximumIdle {
                report.expired["\(scope):idle", default: 0] += try await deleteObjects(
                    bucket: bucket, column: "accessed_at", before: nowSeconds - idle)
            }
            for rule in try await lifecycleRules(bucket) where rule.enabled {
                let name = "lifecycle:\(bucket):\(rule.id ?? "rule")"
                // Older than Days, or, once Date has come, whatever the age.
                var createdBefore: Double?
                if let days = rule.expirationDays {
                    createdBefore = nowSeconds - Double(days) * 86400
                } else if let date = rule.expirationDate, date.timeIntervalSince1970 <= nowSeconds {
                    createdBefore = .greatestFiniteMagnitude
                }
                if let createdBefore {
                    report.expired[name, default: 0] += try await deleteObjects(
                        bucket: bucket, column: "created_at", before: createdBefore,
                        scope: Self.ruleScope(rule, alias: "o"))
                }
                try await expireVersions(bucket: bucket, rule: rule, name: name, &report)
            }
            if let age = expiry.maximumAge {
                // In a bucket with versioning, the age limit holds for noncurrent versions too.
                report.expired["\(scope):age", default: 0] += try await deleteVersions(
                    bucket: bucket, condition: "v.noncurrent_at IS NOT NULL AND v.created_at < \(nowSeconds - age)")
            }
        }
    }

    /// A lifecycle rule's key prefix and tags as an SQL condition on the row aliased `alias` (objects or versions).
    static func ruleScope(_ rule: LifecycleRule, alias: String) -> String {
        let prefix = Array(rule.prefix.utf8)
        var condition = "\(alias).key >= '\\x\(prefix.hexString)'::bytea"
        if let upper = ObjectListing.successor(ofPrefix: prefix) {
            condition += " AND \(alias).key < '\\x\(upper.hexString)'::bytea"
        }
        // An object's tags are in its stored headers (JSON): it must carry each of the rule's.
        for tag in rule.tags ?? [] {
            condition += """
                 AND EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(\(alias).headers::jsonb -> 'tags', '[]'))
                             t WHERE t ->> 'key' = \(literal(tag.key)) AND t ->> 'value' = \(literal(tag.value)))
                """
        }
        return condition
    }

    /// A text as an SQL string literal (quotes doubled; the server runs with standard_conforming_strings).
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\u{0}", with: "") + "'"
    }

    /// A rule's `NoncurrentVersionExpiration` (keeping the newest `NewerNoncurrentVersions` of each key) and
    /// `ExpiredObjectDeleteMarker`.
    private func expireVersions(
        bucket: String, rule: LifecycleRule, name: String, _ report: inout RetentionReport
    ) async throws {
        let scope = Self.ruleScope(rule, alias: "v")
        if let days = rule.noncurrentDays {
            var condition = "v.noncurrent_at IS NOT NULL AND v.noncurrent_at < \(nowSeconds - Double(days) * 86400)"
            condition += " AND \(scope)"
            if let newer = rule.newerNoncurrentVersions, newer > 0 {
                condition += """
                     AND (SELECT COUNT(*) FROM object_versions n WHERE n.bucket = v.bucket AND n.key = v.key
                          AND n.noncurrent_at IS NOT NULL AND n.ordinal > v.ordinal) >= \(newer)
                    """
            }
            report.expired["\(name):noncurrent", default: 0] += try await deleteVersions(
                bucket: bucket, condition: condition)
        }
        if rule.expiredObjectDeleteMarker == true {
            report.expired["\(name):delete-marker", default: 0] += try await deleteVersions(
                bucket: bucket,
                condition: """
                    v.delete_marker AND v.noncurrent_at IS NULL AND \(scope)
                    AND NOT EXISTS (SELECT 1 FROM object_versions n WHERE n.bucket = v.bucket AND n.key = v.key
                                    AND n.version_id <> v.version_id)
                    """)
        }
    }

    /// Deletes a bucket's noncurrent versions (or lone delete markers) matching `condition` for good, none that
    /// object lock protects, a batch per transaction. The latest version of a key is never among them, so no key's
    /// current object changes.
    private func deleteVersions(bucket: String, condition: String) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await batch {
                try await rows(
                    """
                    DELETE FROM object_versions WHERE (bucket, key, version_id) IN (
                        SELECT bucket, key, version_id FROM object_versions v
                        WHERE bucket = \(bucket) AND \(unescaped: condition)
                          AND NOT \(unescaped: PostgresMetadataStore.lockedCondition("v.headers", at: now))
                        LIMIT \(batchSize) FOR UPDATE SKIP LOCKED)
                    RETURNING 1
                    """
                ).count
            }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    private func lifecycleRules(_ bucket: String) async throws -> [LifecycleRule] {
        guard let text = try await rows("SELECT rules FROM bucket_lifecycle WHERE bucket = \(bucket)").first else {
            return []
        }
        return try JSONDecoder().decode([LifecycleRule].self, from: Data(try text.decode(String.self).utf8))
    }

    /// Deletes a bucket's unprotected objects whose `column` is before `cutoff` (and that `scope` selects), none
    /// that object lock protects, a batch per transaction. In a bucket with versioning, expiring the current version
    /// hides it behind a delete marker and keeps it as a noncurrent version, as S3's lifecycle does.
    private func deleteObjects(bucket: String, column: String, before cutoff: Double, scope: String = "true")
        async throws -> Int
    {
        var total = 0
        while true {
            let deleted = try await batch { () -> Int in
                let versioning = try await rows("SELECT versioning FROM buckets WHERE name = \(bucket)").first?
                    .decode(String?.self).flatMap(VersioningStatus.init(rawValue:))
                let candidates = """
                    SELECT bucket, key FROM objects o
                    WHERE bucket = \(PostgresRetentionPass.literal(bucket)) AND \(column) < \(cutoff) AND \(scope)
                      AND NOT EXISTS (SELECT 1 FROM retention_protected p WHERE p.bucket = o.bucket AND p.key = o.key)
                      AND NOT \(PostgresMetadataStore.lockedCondition("o.headers", at: now))
                    """
                guard let versioning else {
                    return try await rows(
                        """
                        DELETE FROM objects WHERE (bucket, key) IN (
                            \(unescaped: candidates) LIMIT \(batchSize) FOR UPDATE SKIP LOCKED)
                        RETURNING 1
                        """
                    ).count
                }
                // Writers of a key take its advisory lock before its row: so does this, and then checks again that
                // the key's current object is still one to expire.
                let keys = try await rows(PostgresQuery(unsafeSQL: candidates + " LIMIT \(batchSize)")).map {
                    try $0.decode((String, Data).self).1
                }
                var expired = 0
                for key in keys {
                    try await store.lockKey(bucket: bucket, key: key, on: connection)
                    let still = try await rows(
                        PostgresQuery(unsafeSQL: candidates + " AND o.key = '\\x\([UInt8](key).hexString)'::bytea"))
                    guard !still.isEmpty else { continue }
                    try await store.insertDeleteMarker(
                        bucket: bucket, key: key,
                        versionID: versioning == .enabled ? ObjectVersion.newVersionID() : ObjectInfo.nullVersionID,
                        at: now, on: connection)
                    expired += 1
                }
                // A batch of keys that all changed meanwhile ends the loop like a short batch.
                return expired == 0 ? 0 : keys.count
            }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    private func expireEntries(_ report: inout RetentionReport) async throws {
        let namespaces = try await rows("SELECT DISTINCT namespace FROM action_entries ORDER BY namespace").map {
            try $0.decode(String.self)
        }
        for namespace in namespaces {
            let expiry = policy.expiry(namespace: namespace)
            guard !expiry.isEmpty else { continue }
            let scope = policy.scope(namespace: namespace)
            if let age = expiry.maximumAge {
                report.expired["\(scope):age", default: 0] += try await deleteEntries(
                    namespace: namespace, column: "created_at", before: nowSeconds - age)
            }
            if let idle = expiry.maximumIdle {
                report.expired["\(scope):idle", default: 0] += try await deleteEntries(
                    namespace: namespace, column: "accessed_at", before: nowSeconds - idle)
            }
        }
    }

    private func deleteEntries(namespace: String, column: String, before cutoff: Double) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await batch {
                try await rows(
                    """
                    DELETE FROM action_entries WHERE (namespace, key) IN (
                        SELECT namespace, key FROM action_entries
                        WHERE namespace = \(namespace) AND \(unescaped: column) < \(cutoff)
                        LIMIT \(batchSize) FOR UPDATE SKIP LOCKED)
                    RETURNING 1
                    """
                ).count
            }
            total += deleted
            if deleted < batchSize { return total }
        }
    }

    // MARK: Multipart uploads

    private func abortStaleUploads(_ report: inout RetentionReport) async throws {
        if let after = policy.abortIncompleteUploadsAfter {
            report.uploadsAborted += try await abortUploads(bucket: nil, before: nowSeconds - after, prefix: [])
        }
        let buckets = try await rows("SELECT bucket FROM bucket_lifecycle ORDER BY bucket").map {
            try $0.decode(String.self)
        }
        for bucket in buckets {
            for rule in try await lifecycleRules(bucket) where rule.enabled {
                guard let days = rule.abortIncompleteUploadDays else { continue }
                report.uploadsAborted += try await abortUploads(
                    bucket: bucket, before: nowSeconds - Double(days) * 86400, prefix: Array(rule.prefix.utf8))
            }
        }
    }

    private func abortUploads(bucket: String?, before cutoff: Double, prefix: [UInt8]) async throws -> Int {
        let upper = ObjectListing.successor(ofPrefix: prefix).map { Data($0) }
        var total = 0
        while true {
            let aborted = try await batch {
                try await rows(
                    """
                    DELETE FROM uploads WHERE upload_id IN (
                        SELECT upload_id FROM uploads
                        WHERE (\(bucket)::text IS NULL OR bucket = \(bucket)::text) AND created_at < \(cutoff)
                          AND key >= \(Data(prefix)) AND (\(upper)::bytea IS NULL OR key < \(upper)::bytea)
                        LIMIT \(batchSize) FOR UPDATE SKIP LOCKED)
                    RETURNING 1
                    """
                ).count
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

    private func referencedBytes() async throws -> Int64 {
        try await rows(
            """
            SELECT COALESCE(SUM(size), 0)::int8 FROM blobs b WHERE \(unescaped: Self.referencedCondition)
            """
        ).first?.decode(Int64.self) ?? 0
    }

    /// Above the high watermark, deletes the least recently read objects and entries until the referenced bytes
    /// are at or below the low watermark.
    private func enforceSizeLimit(_ report: inout RetentionReport) async throws {
        guard let high = policy.highWatermark else { return }
        let low = policy.lowWatermark ?? high / 10 * 9
        var referenced = try await referencedBytes()
        guard referenced > high else { return }
        var evicted = 0
        while referenced > low {
            let current = referenced
            let (count, freed) = try await batch { () -> (Int, Int64) in
                let candidates = try await rows(
                    """
                    SELECT kind, scope, name, version FROM (
                        SELECT 'object' AS kind, bucket AS scope, key AS name, accessed_at, NULL::text AS version
                        FROM objects o
                        WHERE NOT EXISTS (SELECT 1 FROM retention_protected p
                                          WHERE p.bucket = o.bucket AND p.key = o.key)
                          AND NOT \(unescaped: PostgresMetadataStore.lockedCondition("o.headers", at: now))
                        UNION ALL
                        SELECT 'version', bucket, key, noncurrent_at, version_id FROM object_versions v
                        WHERE NOT v.delete_marker AND v.noncurrent_at IS NOT NULL
                          AND NOT \(unescaped: PostgresMetadataStore.lockedCondition("v.headers", at: now))
                        UNION ALL
                        SELECT 'entry', namespace, convert_to(key, 'UTF8'), accessed_at, NULL FROM action_entries
                    ) c ORDER BY accessed_at LIMIT \(min(batchSize, 100))
                    """)
                var freed: Int64 = 0
                var count = 0
                for candidate in candidates {
                    let (kind, scope, name, version) = try candidate.decode((String, String, Data, String?).self)
                    let digests: [String]
                    if kind == "object" {
                        try await store.lockKey(bucket: scope, key: name, on: connection)
                        digests = try await rows(
                            """
                            DELETE FROM object_segments WHERE bucket = \(scope) AND key = \(name) RETURNING digest
                            """
                        ).map { try $0.decode(String.self) }
                        try await rows("DELETE FROM objects WHERE bucket = \(scope) AND key = \(name)")
                        try await store.settleLatest(bucket: scope, key: name, on: connection)
                    } else if kind == "version", let version {
                        digests = try await rows(
                            """
                            SELECT DISTINCT digest FROM version_segments
                            WHERE bucket = \(scope) AND key = \(name) AND version_id = \(version)
                            """
                        ).map { try $0.decode(String.self) }
                        try await rows(
                            """
                            DELETE FROM object_versions WHERE bucket = \(scope) AND key = \(name) AND version_id = \(version)
                            """)
                    } else {
                        let key = String(decoding: name, as: UTF8.self)
                        digests = try await rows(
                            """
                            DELETE FROM action_entry_blobs WHERE namespace = \(scope) AND key = \(key)
                            RETURNING digest
                            """
                        ).map { try $0.decode(String.self) }
                        try await rows("DELETE FROM action_entries WHERE namespace = \(scope) AND key = \(key)")
                    }
                    count += 1
                    let unique = Array(Set(digests)).sorted()
                    freed +=
                        try await rows(
                            """
                            SELECT COALESCE(SUM(size), 0)::int8 FROM blobs b
                            WHERE digest = ANY(\(unique)::text[]) AND NOT \(unescaped: Self.referencedCondition)
                            """
                        ).first?.decode(Int64.self) ?? 0
                    if current - freed <= low { break }
                }
                return (count, freed)
            }
            if count == 0 { break }
            evicted += count
            referenced -= freed
        }
        report.expired["size-limit", default: 0] += evicted
    }

    // MARK: Sweep

    /// Removes blobs that nothing names and that nothing has named for the grace period, a batch per transaction:
    /// the rows are locked and deleted first, the blobs removed, then the transaction commits.
    private func sweepBlobs(_ report: inout RetentionReport) async throws {
        let cutoff = nowSeconds - policy.gracePeriod
        var lastDigest = ""
        while true {
            let after = lastDigest
            let (count, bytes, last) = try await batch { () -> (Int, Int64, String?) in
                // Lock the candidates (skipping rows a writer holds), then delete them in a new statement, whose
                // snapshot sees every write that committed before the locks were taken.
                let candidates = try await rows(
                    """
                    SELECT digest FROM blobs b
                    WHERE digest > \(after) AND created_at < \(cutoff) AND NOT \(unescaped: Self.referencedCondition)
                    ORDER BY digest LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                    """
                ).map { try $0.decode(String.self) }
                guard !candidates.isEmpty else { return (0, 0, nil) }
                let deleted = try await rows(
                    """
                    DELETE FROM blobs b WHERE digest = ANY(\(candidates)::text[]) AND created_at < \(cutoff)
                      AND NOT \(unescaped: Self.referencedCondition)
                    RETURNING digest, size
                    """
                ).map { try $0.decode((String, Int64).self) }
                if !dryRun {
                    for (hex, _) in deleted {
                        if let digest = BlobDigest(hex: hex) { try await blobs.remove(digest) }
                    }
                }
                return (deleted.count, deleted.reduce(0) { $0 + $1.1 }, candidates.last)
            }
            report.blobsSwept += count
            report.bytesFreed += bytes
            guard let last else { return }
            lastDigest = last
        }
    }
}
