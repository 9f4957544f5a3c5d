import CairnCore
import Logging
import ServiceLifecycle

/// Flushes the access log on an interval, and once more when the server shuts down.
struct AccessLogService: Service {
    let accessLog: AccessLog
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await gracefulShutdownSafeSleep(for: interval)
            await flush()
        }
        await flush()
    }

    private func flush() async {
        do {
            try await accessLog.flush()
        } catch {
            logger.warning("could not record access times", metadata: ["error": "\(error)"])
        }
    }
}

private func gracefulShutdownSafeSleep(for duration: Duration) async throws {
    try await cancelWhenGracefulShutdown {
        try await Task.sleep(for: duration)
    }
}
