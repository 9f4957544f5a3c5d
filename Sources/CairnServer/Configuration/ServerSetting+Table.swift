extension ServerSetting {
    /// Every server setting, in the order of `config/cairn.yaml`.
    public static let all: [ServerSetting] = [
        address, dataDirectory, tlsCertificate, tlsKey, logLevel, journalBytes, journalFlushInterval,
        region, virtualHostDomain, maximumClockSkew, accessFlushInterval,
        maximumCacheEntrySize, memoryCacheBytes,
        rootAccessKeyID, rootSecretAccessKey,
        retentionInterval, gracePeriod, expireAfter, idleAfter, highWatermark, lowWatermark, keepLastBuilds,
        abortIncompleteUploadsAfter, retentionBatchSize, bucketRules, namespaceRules,
        metricsEnabled, metricsArePublic,
        metadataURL, blobURL, blobEndpoint, blobRegion, blobAccessKeyID, blobSecretAccessKey, smallBlobBytes,
        blobCacheBytes,
    ]

    // MARK: shared storage (several nodes)

    public static let metadataURL = ServerSetting(
        "metadata.url", \.metadataURL, .optional(.text), environmentVariable: "CAIRN_METADATA_URL",
        summary: "PostgreSQL metadata shared by every node, postgres://user:password@host:port/database")
    static let blobURL = ServerSetting(
        "blobs.url", \.blobURL, .optional(.text), environmentVariable: "CAIRN_BLOB_URL",
        summary: "Blobs in an S3-compatible object store shared by every node, s3://bucket/prefix")
    static let blobEndpoint = ServerSetting(
        "blobs.endpoint", \.blobEndpoint, .optional(.text), environmentVariable: "CAIRN_BLOB_ENDPOINT",
        summary: "The object store's S3 endpoint, http://host:port or https://host")
    static let blobRegion = ServerSetting(
        "blobs.region", \.blobRegion, .text, environmentVariable: "CAIRN_BLOB_REGION",
        summary: "The region the object store's requests are signed for")
    static let blobAccessKeyID = ServerSetting(
        "blobs.access_key_id", \.blobAccessKeyID, .optional(.text), environmentVariable: "CAIRN_BLOB_ACCESS_KEY_ID",
        summary: "Access key id for the object store")
    static let blobSecretAccessKey = ServerSetting(
        "blobs.secret_access_key", \.blobSecretAccessKey, .optional(.text),
        environmentVariable: "CAIRN_BLOB_SECRET_ACCESS_KEY", summary: "Secret access key for the object store")
    static let smallBlobBytes = ServerSetting(
        "blobs.small_blob_bytes", \.smallBlobBytes,
        .number("a number of bytes up to \(ServerSettings.largestSmallBlob) (0: every blob in the object store)") {
            (0...ServerSettings.largestSmallBlob).contains($0)
        }, environmentVariable: "CAIRN_BLOB_SMALL_BLOB_BYTES",
        summary: "Blobs of at most this many bytes are stored in PostgreSQL, not the object store; 0 turns it off")
    static let blobCacheBytes = ServerSetting(
        "blobs.cache_bytes", \.blobCacheBytes, .number("a number of bytes (0 disables the cache)") { $0 >= 0 },
        environmentVariable: "CAIRN_BLOB_CACHE_BYTES",
        summary: "Bytes of this node's disk cache of blobs from the object store; 0 disables it")

    // MARK: server

    /// `server.address`, flag `--address`.
    public static let address = ServerSetting(
        "server.address", \.address, .text, flag: "address",
        summary: "Address to listen on, HOST:PORT; port 0 picks a free port")
    /// `server.data_dir`, flag `--data-dir`.
    public static let dataDirectory = ServerSetting(
        "server.data_dir", \.dataDirectory, .text, flag: "data-dir",
        summary: "Data directory: blobs, metadata, credentials")
    /// `server.tls.certificate`, flag `--tls-cert`.
    public static let tlsCertificate = ServerSetting(
        "server.tls.certificate", \.tlsCertificate, .optional(.text), environmentVariable: "CAIRN_TLS_CERT",
        flag: "tls-cert", summary: "PEM certificate chain; with --tls-key, serve HTTPS")
    /// `server.tls.key`, flag `--tls-key`.
    public static let tlsKey = ServerSetting(
        "server.tls.key", \.tlsKey, .optional(.text), flag: "tls-key", summary: "PEM private key for --tls-cert")
    static let logLevel = ServerSetting(
        "server.log_level", \.logLevel, .text,
        summary: "trace, debug, info, notice, warning, error or critical")
    static let journalBytes = ServerSetting(
        "server.journal_bytes", \.journalBytes, .number("a number of bytes (0 turns the journal off)") { $0 >= 0 },
        summary: "Bytes of small new blobs held in memory until their metadata rows commit; 0 turns it off")
    static let journalFlushInterval = ServerSetting(
        "server.journal_flush_seconds", \.journalFlushInterval, .number("a positive number of seconds") { $0 > 0 },
        summary: "How often held small blobs that have their rows are let go from memory, in seconds")

    // MARK: s3

    static let region = ServerSetting(
        "s3.region", \.region, .text, summary: "The region reported to S3 clients")
    static let virtualHostDomain = ServerSetting(
        "s3.virtual_host_domain", \.virtualHostDomain, .optional(.text),
        summary: "Domain for virtual-host-style addressing (<bucket>.<domain>)")
    static let maximumClockSkew = ServerSetting(
        "s3.max_clock_skew_seconds", \.maximumClockSkew, .number("a positive number of seconds") { $0 > 0 },
        summary: "Largest accepted clock difference of a signed request, in seconds")
    static let accessFlushInterval = ServerSetting(
        "s3.access_time_flush_seconds", \.accessFlushInterval, .number("a positive number of seconds") { $0 > 0 },
        summary: "How often batched read times are written to the metadata, in seconds")

    // MARK: cache

    static let maximumCacheEntrySize = ServerSetting(
        "cache.max_entry_bytes", \.maximumCacheEntrySize, .number("a positive number of bytes") { $0 > 0 },
        summary: "Largest build-cache entry accepted, in bytes")
    static let memoryCacheBytes = ServerSetting(
        "cache.memory_bytes", \.memoryCacheBytes,
        .number("a number of bytes (0 disables the memory cache)") { $0 >= 0 },
        summary: "Bytes of small blobs kept in memory for reads; 0 disables it")

    // MARK: auth

    /// `auth.root_access_key_id`.
    public static let rootAccessKeyID = ServerSetting(
        "auth.root_access_key_id", \.rootAccessKeyID, .optional(.text),
        summary: "Root access key id (generated into the data directory when unset)")
    /// `auth.root_secret_access_key`.
    public static let rootSecretAccessKey = ServerSetting(
        "auth.root_secret_access_key", \.rootSecretAccessKey, .optional(.text),
        summary: "Root secret access key, at least 8 characters")

    // MARK: retention

    static let retentionInterval = ServerSetting(
        "retention.interval_seconds", \.retentionInterval,
        .number("a number of seconds (0 turns the schedule off)") { $0 >= 0 },
        summary: "How often the retention job runs in the server, in seconds; 0: only with `cairn gc`")
    static let gracePeriod = ServerSetting(
        "retention.grace_period_seconds", \.retention.gracePeriod, .number("a number of seconds") { $0 >= 0 },
        summary: "Unreferenced blobs younger than this are never swept, in seconds (at least 60)")
    static let expireAfter = ServerSetting(
        "retention.expire_after_days", \.retention.global.maximumAge, .optional(.days()),
        summary: "Days after creation when objects and cache entries expire; null: never")
    static let idleAfter = ServerSetting(
        "retention.idle_after_days", \.retention.global.maximumIdle, .optional(.days()),
        summary: "Days since the last read when objects and cache entries expire; null: never")
    static let highWatermark = ServerSetting(
        "retention.max_total_bytes", \.retention.highWatermark, .optional(.number("a number of bytes") { $0 >= 0 }),
        summary: "Above this many bytes, the least recently read entries are deleted; null: no limit")
    static let lowWatermark = ServerSetting(
        "retention.low_watermark_bytes", \.retention.lowWatermark,
        .optional(.number("a number of bytes") { $0 >= 0 }),
        summary: "Eviction stops at this many bytes; null: 90 % of max_total_bytes")
    static let keepLastBuilds = ServerSetting(
        "retention.keep_last_builds", \.retention.keepLastBuilds,
        .optional(.number("a number of builds") { $0 >= 0 }),
        summary: "Artifacts of the newest N builds of each `cairn build` project are kept; null: none")
    static let abortIncompleteUploadsAfter = ServerSetting(
        "retention.abort_incomplete_uploads_after_days", \.retention.abortIncompleteUploadsAfter, .optional(.days()),
        summary: "Days after which incomplete multipart uploads are aborted")
    static let retentionBatchSize = ServerSetting(
        "retention.batch_size", \.retentionBatchSize, .number("a positive integer") { $0 > 0 },
        summary: "Rows the retention job handles per transaction")
    static let bucketRules = ServerSetting(
        "retention.buckets", \.retention.buckets, .expiryRules,
        summary: "Expiry rules per bucket, replacing the global ones: {logs: {expire_after_days: 30}}")
    static let namespaceRules = ServerSetting(
        "retention.namespaces", \.retention.namespaces, .expiryRules,
        summary: "Expiry rules per cache namespace prefix, replacing the global ones: {ccache: {idle_after_days: 14}}")

    // MARK: metrics

    static let metricsEnabled = ServerSetting(
        "metrics.enabled", \.metricsEnabled, .bool,
        summary: "Whether requests are counted for GET /_cairn/metrics and the console; false: it answers 404")
    static let metricsArePublic = ServerSetting(
        "metrics.public", \.metricsArePublic, .bool,
        summary: "Whether GET /_cairn/metrics answers without credentials; false: root or a metrics-scoped token")
}
