import Foundation

/// The rules retention enforces, from the configuration (S3 lifecycle rules are read from the metadata).
public struct RetentionPolicy: Sendable, Equatable {
    /// Expiry for one scope: age since creation, or time since last access (idle).
    public struct Expiry: Sendable, Equatable {
        public var maximumAge: TimeInterval?
        public var maximumIdle: TimeInterval?

        public init(maximumAge: TimeInterval? = nil, maximumIdle: TimeInterval? = nil) {
            self.maximumAge = maximumAge
            self.maximumIdle = maximumIdle
        }

        var isEmpty: Bool { maximumAge == nil && maximumIdle == nil }
    }

    /// Applies to every object and cache entry without a more specific rule.
    public var global = Expiry()
    /// Per bucket, by bucket name (replaces the global rule for that bucket).
    public var buckets: [String: Expiry] = [:]
    /// Per cache namespace, by prefix of the entry namespace (`ccache/team-a`, `bazel/main`, `turbo`, `runner`…);
    /// the longest matching prefix wins and replaces the global rule.
    public var namespaces: [String: Expiry] = [:]
    /// When the bytes referenced by live entries exceed this, the least recently read entries are deleted…
    public var highWatermark: Int64?
    /// …until they are at or below this (defaults to 90 % of the high watermark).
    public var lowWatermark: Int64?
    /// The artifacts of the newest N builds of each runner project are kept whatever their age.
    public var keepLastBuilds: Int?
    /// Multipart uploads left incomplete for longer than this are aborted.
    public var abortIncompleteUploadsAfter: TimeInterval? = 7 * 86400
    /// Unreferenced blobs and temp files younger than this are never removed (an upload may be in flight).
    public var gracePeriod: TimeInterval = 3600

    public init() {}

    func expiry(bucket: String) -> Expiry { buckets[bucket] ?? global }

    /// The name of the rule that applies to a bucket, as reports count by it: `bucket:<name>` or `global`.
    func scope(bucket: String) -> String { buckets[bucket] != nil ? "bucket:\(bucket)" : "global" }

    /// The name of the rule that applies to a namespace: `namespace:<longest matching prefix>` or `global`.
    func scope(namespace: String) -> String {
        let matched = namespaces.keys.filter { namespace == $0 || namespace.hasPrefix($0 + "/") }.max {
            $0.count < $1.count
        }
        return matched.map { "namespace:\($0)" } ?? "global"
    }

    func expiry(namespace: String) -> Expiry {
        let match = namespaces.keys.filter { namespace == $0 || namespace.hasPrefix($0 + "/") }.max {
            $0.count < $1.count
        }
        return match.map { namespaces[$0]! } ?? global
    }
}

/// One rule of an S3 bucket lifecycle configuration, as Cairn enforces it.
public struct LifecycleRule: Sendable, Codable, Equatable {
    public var id: String?
    public var enabled: Bool
    /// Only keys with this prefix (`Prefix` or `Filter/Prefix`); empty for the whole bucket.
    public var prefix: String
    /// Only objects that carry every one of these tags (`Filter/Tag`, `Filter/And/Tag`); nil or empty for any.
    /// Optional so that rules stored before tag filters decode unchanged.
    public var tags: [ObjectTag]?
    /// `Expiration/Days`: objects older than this many days are deleted.
    public var expirationDays: Int?
    /// `Expiration/Date`: from this moment on, every matching object is deleted, however new.
    public var expirationDate: Date?
    /// `AbortIncompleteMultipartUpload/DaysAfterInitiation`.
    public var abortIncompleteUploadDays: Int?
    /// `NoncurrentVersionExpiration/NoncurrentDays`: versions noncurrent for longer than this are deleted…
    public var noncurrentDays: Int?
    /// …except the newest this many noncurrent versions of each key (`NewerNoncurrentVersions`).
    public var newerNoncurrentVersions: Int?
    /// `Expiration/ExpiredObjectDeleteMarker`: a delete marker that is the only version left of its key is removed.
    public var expiredObjectDeleteMarker: Bool?

    public init(
        id: String?, enabled: Bool, prefix: String, tags: [ObjectTag]? = nil, expirationDays: Int?,
        expirationDate: Date? = nil, abortIncompleteUploadDays: Int?, noncurrentDays: Int? = nil,
        newerNoncurrentVersions: Int? = nil, expiredObjectDeleteMarker: Bool? = nil
    ) {
        self.noncurrentDays = noncurrentDays
        self.newerNoncurrentVersions = newerNoncurrentVersions
        self.expiredObjectDeleteMarker = expiredObjectDeleteMarker
        self.expirationDate = expirationDate
        self.id = id
        self.enabled = enabled
        self.prefix = prefix
        self.tags = tags
        self.expirationDays = expirationDays
        self.abortIncompleteUploadDays = abortIncompleteUploadDays
    }
}
