import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the server's metrics and console read besides the stores: the series, who may scrape them, how full the
/// store is, and the builds `cairn build` reported.
public struct ServerObservation: Sendable {
    public let metrics: ServerMetrics
    /// Whether requests are counted and `GET /_cairn/metrics` answers (`metrics.enabled`); when false it is 404.
    public let metricsEnabled: Bool
    /// Whether `GET /_cairn/metrics` answers without credentials (`metrics.public`).
    public let metricsArePublic: Bool
    /// Reads how much the store holds; nil leaves the storage series out.
    public let storageUsage: (@Sendable () async throws -> StorageUsage)?
    /// The data directory whose file system's free space is reported; nil leaves it out.
    public let dataDirectory: String?
    /// The builds reported since the server started, newest last.
    public let builds: RecentBuilds

    public init(
        metrics: ServerMetrics = ServerMetrics(), metricsEnabled: Bool = true, metricsArePublic: Bool = false,
        storageUsage: (@Sendable () async throws -> StorageUsage)? = nil, dataDirectory: String? = nil,
        builds: RecentBuilds = RecentBuilds()
    ) {
        self.metrics = metrics
        self.metricsEnabled = metricsEnabled
        self.metricsArePublic = metricsArePublic
        self.storageUsage = storageUsage
        self.dataDirectory = dataDirectory
        self.builds = builds
    }

    /// Free and total bytes of the file system that holds the data directory.
    func fileSystemSpace() -> (free: Int64, total: Int64)? {
        guard let dataDirectory else { return nil }
        var stats = statvfs()
        guard statvfs(dataDirectory, &stats) == 0 else { return nil }
        let unit = Int64(stats.f_frsize)
        return (Int64(stats.f_bavail) * unit, Int64(stats.f_blocks) * unit)
    }

    /// Brings the storage series up to date, then writes every series out.
    func exposition() async throws -> [UInt8] {
        if let storageUsage {
            let space = fileSystemSpace()
            metrics.recordStorage(try await storageUsage(), freeBytes: space?.free, totalBytes: space?.total)
        }
        return metrics.exposition()
    }
}
