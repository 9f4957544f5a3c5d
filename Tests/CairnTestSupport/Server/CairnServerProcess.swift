import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real `cairn serve` process on a free port with its own data directory, as a user would start it.
public final class CairnServerProcess: @unchecked Sendable {  // mutated only by the test that owns it
    public static let accessKeyID = "CAIRNTESTKEY"
    public static let secretAccessKey = "cairn-test-secret-key"

    public let dataDirectory: URL
    public let tls: (certificate: String, key: String)?
    public private(set) var process: SpawnedProcess?
    /// The URL the server listens on, once ``start()`` returned (`http://127.0.0.1:<port>`).
    public private(set) var endpoint = ""
    /// Extra environment for the server process (e.g. CAIRN_VIRTUAL_HOST_DOMAIN).
    public var environment: [String: String] = [:]
    private let output: URL

    /// The `cairn` executable the build put beside the test bundle.
    public static var executable: URL {
        BuildProducts.executable("cairn") ?? Bundle.main.bundleURL.appendingPathComponent("cairn")
    }

    /// - Parameter dataDirectory: an existing data directory (to restart a server on it); by default a new one.
    public init(dataDirectory: URL? = nil, tls: (certificate: String, key: String)? = nil) throws {
        self.dataDirectory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("cairn-serve-\(UUID().uuidString)")
        self.tls = tls
        self.output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-serve-\(UUID().uuidString).log")
        try FileManager.default.createDirectory(at: self.dataDirectory, withIntermediateDirectories: true)
    }

    /// Starts the server and waits until it prints the URL it listens on.
    public func start() throws {
        var arguments = ["serve", "--address", "127.0.0.1:0", "--data-dir", dataDirectory.path]
        if let tls { arguments += ["--tls-cert", tls.certificate, "--tls-key", tls.key] }
        var environment = ProcessInfo.processInfo.environment
        environment["CAIRN_ROOT_ACCESS_KEY_ID"] = Self.accessKeyID
        environment["CAIRN_ROOT_SECRET_ACCESS_KEY"] = Self.secretAccessKey
        environment["CAIRN_CONFIG"] = nil
        environment.merge(self.environment) { $1 }
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        let process = try SpawnedProcess(
            executable: Self.executable.path, arguments: arguments, environment: environment,
            standardOutput: .descriptor(handle.fileDescriptor), standardError: .descriptor(handle.fileDescriptor)
        )
        self.process = process
        let prefix = "Cairn listening on "
        let started = Polling.wait(timeout: 60, interval: 0.05) {
            if let line = log.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) {
                endpoint = String(line.dropFirst(prefix.count).split(separator: " ")[0])
                return true
            }
            return !process.isRunning
        }
        guard started, !endpoint.isEmpty else {
            let reason =
                process.isRunning ? "did not start within 60 s" : "exited with status \(process.waitUntilExit().status)"
            throw ServerFailure("cairn serve \(reason):\n\(log)")
        }
    }

    /// Everything the server printed so far.
    public var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits for the process to exit; returns its exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process else { return 0 }
        process.send(signal)
        return process.waitUntilExit().status
    }

    /// The environment a client needs to reach this server.
    public var clientEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["AWS_ACCESS_KEY_ID"] = Self.accessKeyID
        environment["AWS_SECRET_ACCESS_KEY"] = Self.secretAccessKey
        environment["AWS_DEFAULT_REGION"] = "us-east-1"
        environment["AWS_CONFIG_FILE"] = "/dev/null"
        environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        environment["CAIRN_ENDPOINT"] = endpoint
        environment["CAIRN_DATA_DIR"] = dataDirectory.path
        environment["AWS_CA_BUNDLE"] = tls?.certificate
        return environment
    }

    deinit {
        stop(signal: SIGKILL)
        try? FileManager.default.removeItem(at: dataDirectory)
        try? FileManager.default.removeItem(at: output)
    }
}
