import CairnCore
import Foundation
import Logging
import ServiceLifecycle

/// Runs retention one run at a time, whether on the schedule or on demand through the admin route.
actor RetentionRunner {
    let job: RetentionJob
    let accessLog: AccessLog
    let metrics: ServerMetrics?
    let logger: Logger
    /// The last run that deleted (not a dry run), and when it ended.
    private(set) var lastRun: (report: RetentionReport, endedAt: Date)?

    init(job: RetentionJob, accessLog: AccessLog, metrics: ServerMetrics? = nil, logger: Logger) {
        self.job = job
        self.accessLog = accessLog
        self.metrics = metrics
        self.logger = logger
    }

    /// Flushes pending access times (so idle rules see the latest reads), then runs the job.
    func run(dryRun: Bool, now: Date = Date()) async throws -> RetentionReport {
        try? await accessLog.flush()
        let report = try await job.run(now: now, dryRun: dryRun)
        logger.info("retention run finished", metadata: ["retention.summary": "\(report.summary)"])
        if !dryRun {
            metrics?.recordRetention(report)
            lastRun = (report, Date())
        }
        return report
    }
}

/// Runs retention on an interval inside the server.
struct RetentionService: Service {
    let runner: RetentionRunner
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                _ = try await runner.run(dryRun: false)
            } catch {
                logger.error("retention run failed; the next run finishes the work", metadata: ["error": "\(error)"])
            }
        }
    }
}
