import CairnCore
import Foundation

/// Everything `cairn serve` needs, resolved from (highest first) command-line flags, environment variables,
/// the configuration file and the built-in defaults.
///
/// Each property's initial value is its built-in default; ``ServerSetting/all`` says how each one is spelled in the
/// file, the environment and the flags. A new setting is a property here and an entry there.
public struct ServerSettings: Sendable, Equatable {
    /// `HOST:PORT` to listen on; port 0 picks a free port.
    public var address = "127.0.0.1:9000"
    /// The data directory: blobs, metadata, credentials.
    public var dataDirectory = "storage"
    /// PEM certificate chain and private key; both set means HTTPS.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// The region S3 clients are told.
    public var region = "us-east-1"
    /// Enables virtual-host-style addressing for `<bucket>.<domain>`.
    public var virtualHostDomain: String?
    /// The largest accepted clock difference of a signed request, in seconds.
    public var maximumClockSkew: TimeInterval = 900
    /// Root credentials; when both are nil they are read from, or generated into, the data directory.
    public var rootAccessKeyID: String?
    public var rootSecretAccessKey: String?
    /// How often batched access times are written, in seconds.
    public var accessFlushInterval: TimeInterval = 10
    /// trace, debug, info, notice, warning, error or critical.
    public var logLevel = "info"
    /// What the retention job enforces.
    public var retention = RetentionPolicy()
    /// How often the retention job runs inside the server, in seconds; 0 turns the schedule off.
    public var retentionInterval: TimeInterval = 3600
    /// How many rows the retention job handles per transaction (its memory does not grow beyond a batch).
    public var retentionBatchSize = 1000
    /// The PostgreSQL database of the metadata (`postgres://…`); nil keeps it in SQLite in the data directory.
    public var metadataURL: String?
    /// `s3://bucket/prefix` of the blobs; nil keeps them in the data directory.
    public var blobURL: String?
    /// The S3 endpoint of ``blobURL`` (`http://host:port`).
    public var blobEndpoint: String?
    /// The region ``blobURL``'s requests are signed for.
    public var blobRegion = "us-east-1"
    public var blobAccessKeyID: String?
    public var blobSecretAccessKey: String?
    /// With ``blobURL``: blobs of at most this many bytes are rows of PostgreSQL's `small_blobs` table instead of
    /// objects; 0 puts every blob in the object store.
    public var smallBlobBytes = 64 << 10
    /// With ``blobURL``: bytes of this node's disk cache of blobs read from or written to the object store (in
    /// `blob-cache/` under ``dataDirectory``); 0 disables it.
    public var blobCacheBytes = 1 << 30
    /// The largest build-cache entry accepted (Bazel, ccache, Gradle, Turborepo, runner blobs), in bytes.
    public var maximumCacheEntrySize: Int64 = 1 << 30
    /// Bytes of small blobs (≤ 64 KiB) kept in memory for reads; 0 disables it.
    public var memoryCacheBytes = 64 << 20
    /// Bytes of small new blobs (≤ 64 KiB) held in memory until their rows in the metadata database commit; 0:
    /// every blob is fsynced as its own file before its upload is answered.
    public var journalBytes = 64 << 20
    /// How often held blobs that have their rows are let go from memory, in seconds.
    public var journalFlushInterval: TimeInterval = 0.2
    /// Whether requests are counted for `GET /_cairn/metrics` and the console's hit rates; false turns the counting
    /// off (to measure what it costs) and the route answers 404.
    public var metricsEnabled = true
    /// Whether `GET /_cairn/metrics` answers without credentials (a scraper inside a trusted network); otherwise it
    /// takes the root credentials or a token with the `metrics` scope.
    public var metricsArePublic = false

    public init() {}

    /// The largest ``smallBlobBytes`` accepted: a small blob is held in memory while it is hashed, and a row much
    /// larger than this is better off as an object.
    public static let largestSmallBlob = 1 << 20

    /// The file used when neither `--config` nor ``configFileEnvironmentVariable`` names one.
    public static let defaultConfigFile = "config/cairn.yaml"
    /// The environment variable that names the configuration file.
    public static let configFileEnvironmentVariable = "CAIRN_CONFIG"

    /// The host and port of ``address``.
    public func hostAndPort() throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw SettingsError("address \"\(address)\" is not HOST:PORT (for example 127.0.0.1:9000)") }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// Checks combinations that cannot work.
    public func validate() throws {
        _ = try hostAndPort()
        if retention.gracePeriod < 60 {
            throw SettingsError(
                "retention.grace_period_seconds must be at least 60: uploads in flight need time to finish")
        }
        if let high = retention.highWatermark, let low = retention.lowWatermark, low > high {
            throw SettingsError("retention.low_watermark_bytes must not exceed retention.max_total_bytes")
        }
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw SettingsError("TLS needs both a certificate and a key (--tls-cert FILE --tls-key FILE)")
        }
        if (rootAccessKeyID == nil) != (rootSecretAccessKey == nil) {
            throw SettingsError("root credentials need both an access key id and a secret access key")
        }
        if let key = rootSecretAccessKey, key.count < 8 {
            throw SettingsError("the root secret access key must have at least 8 characters")
        }
        try validateSharedStorage()
        if !(0...Self.largestSmallBlob).contains(smallBlobBytes) {
            throw SettingsError(
                "blobs.small_blob_bytes must be between 0 (every blob in the object store) and "
                    + "\(Self.largestSmallBlob)")
        }
        if blobCacheBytes < 0 { throw SettingsError("blobs.cache_bytes must be 0 or more (0 disables the cache)") }
        if memoryCacheBytes < 0 { throw SettingsError("cache.memory_bytes must be 0 or more (0 disables it)") }
        if journalBytes < 0 { throw SettingsError("server.journal_bytes must be 0 or more (0 turns it off)") }
        if !(journalFlushInterval > 0) {
            throw SettingsError("server.journal_flush_seconds must be a positive number of seconds")
        }
    }
}
