import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A real `cairn serve` process on a free port with its own data directory, as a user would start it.
final class CairnServerProcess: @unchecked Sendable {  // mutated only by the test that owns it
    static let accessKeyID = "CAIRNTESTKEY"
    static let secretAccessKey = "cairn-test-secret-key"

    let dataDirectory: URL
    let tls: (certificate: String, key: String)?
    private(set) var process: Process?
    private(set) var endpoint = ""
    private var output: URL

    /// The `cairn` executable next to this test bundle in the build folder.
    static var executable: URL {
        Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("cairn")
    }

    /// Extra environment for the server process (e.g. CAIRN_VIRTUAL_HOST_DOMAIN).
    var environment: [String: String] = [:]

    init(dataDirectory: URL? = nil, tls: (certificate: String, key: String)? = nil) throws {
        self.dataDirectory =
            dataDirectory
            ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("cairn-e2e-\(UUID().uuidString)")
        self.tls = tls
        self.output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-e2e-\(UUID().uuidString).log")
        try FileManager.default.createDirectory(at: self.dataDirectory, withIntermediateDirectories: true)
    }

    /// Starts the server and waits until it prints the URL it listens on.
    func start() throws {
        let process = Process()
        process.executableURL = Self.executable
        var arguments = ["serve", "--address", "127.0.0.1:0", "--data-dir", dataDirectory.path]
        if let tls { arguments += ["--tls-cert", tls.certificate, "--tls-key", tls.key] }
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["CAIRN_ROOT_ACCESS_KEY_ID"] = Self.accessKeyID
        environment["CAIRN_ROOT_SECRET_ACCESS_KEY"] = Self.secretAccessKey
        environment["CAIRN_CONFIG"] = nil
        environment.merge(self.environment) { $1 }
        process.environment = environment
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cairn listening on ") }) {
                endpoint = String(line.dropFirst("Cairn listening on ".count).split(separator: " ")[0])
                return
            }
            if !process.isRunning {
                throw ServerFailure("cairn serve exited with status \(process.terminationStatus):\n\(text)")
            }
            usleep(50_000)
        }
        throw ServerFailure("cairn serve did not start within 60 s:\n\(log)")
    }

    /// Everything the server printed so far.
    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process, process.isRunning else { return process?.terminationStatus ?? 0 }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The environment a client needs to reach this server.
    var clientEnvironment: [String: String] {
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

struct ServerFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
