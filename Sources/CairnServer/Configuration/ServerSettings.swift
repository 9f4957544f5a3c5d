import CairnCore
import Foundation
import Yams

/// Everything `cairn serve` needs, resolved from (highest first) command-line flags, environment variables,
/// the configuration file and the built-in defaults.
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
    /// The largest build-cache entry accepted (Bazel, ccache, Gradle, Turborepo, runner blobs), in bytes.
    public var maximumCacheEntrySize: Int64 = 1 << 30
    /// Bytes of small blobs (≤ 64 KiB) kept in memory for reads; 0 disables it.
    public var memoryCacheBytes = 64 << 20
    /// Bytes of small new blobs (≤ 64 KiB) held in memory until their rows in the metadata database commit; 0:
    /// every blob is fsynced as its own file before its upload is answered.
    public var journalBytes = 64 << 20
    /// How often held blobs that have their rows are let go from memory, in seconds.
    public var journalFlushInterval: TimeInterval = 0.2

    public init() {}

    /// The file used when neither `--config` nor `CAIRN_CONFIG` names one.
    public static let defaultConfigFile = "config/cairn.yaml"

    /// The host and port of ``address``.
    public func hostAndPort() throws -> (host: String, port: Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw SettingsError("address \"\(address)\" is not HOST:PORT (for example 127.0.0.1:9000)") }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// A configuration problem, reported as one line with the fix.
public struct SettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension ServerSettings {
    /// Settings from a YAML configuration file (see `config/cairn.yaml` for every key).
    ///
    /// - Parameter required: when false, a missing file means "use the defaults".
    public static func load(file: String, required: Bool) throws -> ServerSettings {
        var settings = ServerSettings()
        guard FileManager.default.fileExists(atPath: file) else {
            if required { throw SettingsError("configuration file \(file) does not exist") }
            return settings
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        if let size = attributes[.size] as? Int, size > 1_048_576 {
            throw SettingsError("configuration file \(file) is larger than 1 MiB")
        }
        let text = try String(contentsOfFile: file, encoding: .utf8)
        do {
            try ConfigFile.checkKeys(text)
            let decoded = try YAMLDecoder().decode(ConfigFile.self, from: text)
            settings.apply(decoded)
        } catch let error as DecodingError {
            throw SettingsError("configuration file \(file): \(Self.describe(error))")
        } catch {
            throw SettingsError("configuration file \(file): \(error)")
        }
        return settings
    }

    /// Applies `CAIRN_*` environment variables over the current values.
    public mutating func applyEnvironment(_ environment: [String: String]) throws {
        if let value = environment["CAIRN_ADDRESS"] { address = value }
        if let value = environment["CAIRN_DATA_DIR"] { dataDirectory = value }
        if let value = environment["CAIRN_TLS_CERT"] { tlsCertificate = value }
        if let value = environment["CAIRN_TLS_KEY"] { tlsKey = value }
        if let value = environment["CAIRN_REGION"] { region = value }
        if let value = environment["CAIRN_VIRTUAL_HOST_DOMAIN"] { virtualHostDomain = value }
        if let value = environment["CAIRN_ROOT_ACCESS_KEY_ID"] { rootAccessKeyID = value }
        if let value = environment["CAIRN_ROOT_SECRET_ACCESS_KEY"] { rootSecretAccessKey = value }
        if let value = environment["CAIRN_LOG_LEVEL"] { logLevel = value }
        if let value = environment["CAIRN_RETENTION_BATCH_SIZE"] {
            guard let size = Int(value), size > 0 else {
                throw SettingsError("CAIRN_RETENTION_BATCH_SIZE must be a positive integer")
            }
            retentionBatchSize = size
        }
        if let value = environment["CAIRN_CACHE_MAX_ENTRY_BYTES"] {
            guard let bytes = Int64(value), bytes > 0 else {
                throw SettingsError("CAIRN_CACHE_MAX_ENTRY_BYTES must be a positive number of bytes")
            }
            maximumCacheEntrySize = bytes
        }
        if let value = environment["CAIRN_CACHE_MEMORY_BYTES"] {
            guard let bytes = Int(value), bytes >= 0 else {
                throw SettingsError("CAIRN_CACHE_MEMORY_BYTES must be a number of bytes (0 disables the memory cache)")
            }
            memoryCacheBytes = bytes
        }
        if let value = environment["CAIRN_JOURNAL_BYTES"] {
            guard let bytes = Int(value), bytes >= 0 else {
                throw SettingsError("CAIRN_JOURNAL_BYTES must be a number of bytes (0 turns the journal off)")
            }
            journalBytes = bytes
        }
        if let value = environment["CAIRN_JOURNAL_FLUSH_SECONDS"] {
            guard let seconds = TimeInterval(value), seconds > 0 else {
                throw SettingsError("CAIRN_JOURNAL_FLUSH_SECONDS must be a positive number of seconds")
            }
            journalFlushInterval = seconds
        }
        if let value = environment["CAIRN_MAX_CLOCK_SKEW_SECONDS"] {
            guard let seconds = TimeInterval(value), seconds > 0 else {
                throw SettingsError("CAIRN_MAX_CLOCK_SKEW_SECONDS must be a positive number of seconds")
            }
            maximumClockSkew = seconds
        }
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
        if memoryCacheBytes < 0 { throw SettingsError("cache.memory_bytes must be 0 or more (0 disables it)") }
        if journalBytes < 0 { throw SettingsError("server.journal_bytes must be 0 or more (0 turns it off)") }
        if !(journalFlushInterval > 0) {
            throw SettingsError("server.journal_flush_seconds must be a positive number of seconds")
        }
    }

    private mutating func apply(_ file: ConfigFile) {
        if let server = file.server {
            if let value = server.address { address = value }
            if let value = server.dataDir { dataDirectory = value }
            if let value = server.tls?.certificate { tlsCertificate = value }
            if let value = server.tls?.key { tlsKey = value }
            if let value = server.logLevel { logLevel = value }
            if let value = server.journalBytes { journalBytes = value }
            if let value = server.journalFlushSeconds { journalFlushInterval = value }
        }
        if let s3 = file.s3 {
            if let value = s3.region { region = value }
            if let value = s3.virtualHostDomain { virtualHostDomain = value }
            if let value = s3.maxClockSkewSeconds { maximumClockSkew = value }
            if let value = s3.accessTimeFlushSeconds { accessFlushInterval = value }
        }
        if let value = file.cache?.maxEntryBytes { maximumCacheEntrySize = value }
        if let value = file.cache?.memoryBytes { memoryCacheBytes = value }
        if let retention = file.retention { apply(retention) }
        if let auth = file.auth {
            if let value = auth.rootAccessKeyId { rootAccessKeyID = value }
            if let value = auth.rootSecretAccessKey { rootSecretAccessKey = value }
        }
    }

    private mutating func apply(_ file: ConfigFile.Retention) {
        let day = 86400.0
        if let value = file.intervalSeconds { retentionInterval = value }
        if let value = file.batchSize { retentionBatchSize = max(1, value) }
        if let value = file.gracePeriodSeconds { retention.gracePeriod = value }
        retention.global = .init(
            maximumAge: file.expireAfterDays.map { $0 * day }, maximumIdle: file.idleAfterDays.map { $0 * day })
        retention.highWatermark = file.maxTotalBytes
        retention.lowWatermark = file.lowWatermarkBytes
        retention.keepLastBuilds = file.keepLastBuilds
        if let value = file.abortIncompleteUploadsAfterDays { retention.abortIncompleteUploadsAfter = value * day }
        for (name, rule) in file.buckets ?? [:] {
            retention.buckets[name] = .init(
                maximumAge: rule.expireAfterDays.map { $0 * day }, maximumIdle: rule.idleAfterDays.map { $0 * day })
        }
        for (name, rule) in file.namespaces ?? [:] {
            retention.namespaces[name] = .init(
                maximumAge: rule.expireAfterDays.map { $0 * day }, maximumIdle: rule.idleAfterDays.map { $0 * day })
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// The YAML shape of `config/cairn.yaml`; unknown keys are errors, so a typo does not silently do nothing.
struct ConfigFile: Decodable {
    struct Server: Decodable {
        struct TLS: Decodable {
            var certificate: String?
            var key: String?
        }
        var address: String?
        var dataDir: String?
        var tls: TLS?
        var logLevel: String?
        var journalBytes: Int?
        var journalFlushSeconds: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case address, dataDir = "data_dir", tls, logLevel = "log_level", journalBytes = "journal_bytes"
            case journalFlushSeconds = "journal_flush_seconds"
        }
    }
    struct S3: Decodable {
        var region: String?
        var virtualHostDomain: String?
        var maxClockSkewSeconds: Double?
        var accessTimeFlushSeconds: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case region, virtualHostDomain = "virtual_host_domain", maxClockSkewSeconds = "max_clock_skew_seconds"
            case accessTimeFlushSeconds = "access_time_flush_seconds"
        }
    }
    struct Auth: Decodable {
        var rootAccessKeyId: String?
        var rootSecretAccessKey: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case rootAccessKeyId = "root_access_key_id", rootSecretAccessKey = "root_secret_access_key"
        }
    }
    struct Cache: Decodable {
        var maxEntryBytes: Int64?
        var memoryBytes: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxEntryBytes = "max_entry_bytes", memoryBytes = "memory_bytes"
        }
    }
    struct Expiry: Decodable {
        var expireAfterDays: Double?
        var idleAfterDays: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case expireAfterDays = "expire_after_days", idleAfterDays = "idle_after_days"
        }
    }
    struct Retention: Decodable {
        var intervalSeconds: Double?
        var gracePeriodSeconds: Double?
        var expireAfterDays: Double?
        var idleAfterDays: Double?
        var maxTotalBytes: Int64?
        var lowWatermarkBytes: Int64?
        var keepLastBuilds: Int?
        var abortIncompleteUploadsAfterDays: Double?
        var batchSize: Int?
        var buckets: [String: Expiry]?
        var namespaces: [String: Expiry]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case intervalSeconds = "interval_seconds", gracePeriodSeconds = "grace_period_seconds"
            case expireAfterDays = "expire_after_days", idleAfterDays = "idle_after_days"
            case maxTotalBytes = "max_total_bytes", lowWatermarkBytes = "low_watermark_bytes"
            case keepLastBuilds = "keep_last_builds"
            case abortIncompleteUploadsAfterDays = "abort_incomplete_uploads_after_days"
            case batchSize = "batch_size"
            case buckets, namespaces
        }
    }
    var server: Server?
    var s3: S3?
    var cache: Cache?
    var retention: Retention?
    var auth: Auth?

    /// Refuses keys this version does not know, naming the key.
    static func checkKeys(_ text: String) throws {
        guard let root = try Yams.load(yaml: text) else { return }
        guard let top = root as? [String: Any] else { throw SettingsError("the top level must be a mapping") }
        let known: [String: Set<String>] = [
            "server": Set(Server.CodingKeys.allCases.map(\.rawValue)),
            "s3": Set(S3.CodingKeys.allCases.map(\.rawValue)),
            "cache": Set(Cache.CodingKeys.allCases.map(\.rawValue)),
            "retention": Set(Retention.CodingKeys.allCases.map(\.rawValue)),
            "auth": Set(Auth.CodingKeys.allCases.map(\.rawValue)),
        ]
        for (section, value) in top {
            guard let keys = known[section] else { throw SettingsError("unknown section \"\(section)\"") }
            guard let mapping = value as? [String: Any] else {
                if value is NSNull { continue }
                throw SettingsError("\"\(section)\" must be a mapping")
            }
            for key in mapping.keys where !keys.contains(key) {
                throw SettingsError("unknown key \"\(section).\(key)\"")
            }
            if section == "retention" {
                let expiryKeys = Set(Expiry.CodingKeys.allCases.map(\.rawValue))
                for scope in ["buckets", "namespaces"] {
                    for (name, rule) in mapping[scope] as? [String: Any] ?? [:] {
                        for key in (rule as? [String: Any] ?? [:]).keys where !expiryKeys.contains(key) {
                            throw SettingsError("unknown key \"retention.\(scope).\(name).\(key)\"")
                        }
                    }
                }
            }
            if section == "server", let tls = mapping["tls"] as? [String: Any] {
                for key in tls.keys where key != "certificate" && key != "key" {
                    throw SettingsError("unknown key \"server.tls.\(key)\"")
                }
            }
        }
    }
}
