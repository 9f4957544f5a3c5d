import CairnSigV4
import Foundation

/// A release `cairn serve` on a free loopback port with its own data directory.
final class CairnInstance: Sendable {
    static let accessKeyID = "BENCHKEY"
    static let secretAccessKey = "cairn-bench-secret-key"
    static let bucket = "bench"

    let child: ChildProcess
    let port: Int
    let dataDirectory: URL
    /// Seconds from spawning the process to the first 200 from `/_cairn/health`.
    let secondsToHealthy: Double
    /// The name of its rows in the report.
    let system: String

    /// Starts the server and waits until `/_cairn/health` answers 200.
    ///
    /// - Parameter settings: environment on top of the benchmark's own (`CAIRN_METADATA_URL`, `CAIRN_BLOB_*`).
    init(
        executable: URL, dataDirectory: URL, logDirectory: URL, name: String = "cairn",
        settings: [String: String] = [:], system: String = "cairn"
    ) async throws {
        self.dataDirectory = dataDirectory
        self.system = system
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        port = try LoopbackSocket.freePort()
        var environment = ProcessInfo.processInfo.environment
        environment["CAIRN_ROOT_ACCESS_KEY_ID"] = Self.accessKeyID
        environment["CAIRN_ROOT_SECRET_ACCESS_KEY"] = Self.secretAccessKey
        environment["CAIRN_CONFIG"] = nil
        environment.merge(settings) { $1 }
        let started = ContinuousClock.now
        child = try ChildProcess(
            name: name,
            arguments: [executable.path, "serve", "--address", "127.0.0.1:\(port)", "--data-dir", dataDirectory.path],
            environment: environment, logDirectory: logDirectory
        )
        let deadline = started + .seconds(120)
        while LoopbackSocket.httpStatus(port: port, path: "/_cairn/health") != 200 {
            guard child.isRunning else {
                throw BenchError("cairn serve exited with \(child.exitStatus ?? -1): \(child.log.suffix(2000))")
            }
            guard ContinuousClock.now < deadline else {
                await child.stop(signal: SIGKILL)
                throw BenchError("cairn serve was not healthy within 120 s: \(child.log.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        secondsToHealthy = (ContinuousClock.now - started).seconds
    }

    var endpoint: ObjectEndpoint {
        ObjectEndpoint(
            system: system, baseURL: "http://127.0.0.1:\(port)", prefix: "/\(Self.bucket)",
            signer: SigV4Signer(
                accessKeyID: Self.accessKeyID, secretAccessKey: Self.secretAccessKey, region: "us-east-1")
        )
    }

    func stop() async { await child.stop() }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
