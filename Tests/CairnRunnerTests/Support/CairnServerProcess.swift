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
    private(set) var process: Process?
    private(set) var endpoint = ""
    private var output: URL

    /// The `cairn` executable next to this test bundle in the build folder.
    static var executable: URL {
        Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("cairn")
    }

    init() throws {
        self.dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-runner-serve-\(UUID().uuidString)")
        self.output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-runner-serve-\(UUID().uuidString).log")
        try FileManager.default.createDirectory(at: self.dataDirectory, withIntermediateDirectories: true)
    }

    /// Starts the server and waits until it prints the URL it listens on.
    func start() throws {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve", "--address", "127.0.0.1:0", "--data-dir", dataDirectory.path]
        var environment = ProcessInfo.processInfo.environment
        environment["CAIRN_ROOT_ACCESS_KEY_ID"] = Self.accessKeyID
        environment["CAIRN_ROOT_SECRET_ACCESS_KEY"] = Self.secretAccessKey
        environment["CAIRN_CONFIG"] = nil
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
                throw ToolMissing(description: "cairn serve exited with status \(process.terminationStatus):\n\(text)")
            }
            usleep(50_000)
        }
        throw ToolMissing(description: "cairn serve did not start within 60 s:\n\(log)")
    }

    /// Everything the server printed so far.
    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    deinit {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: dataDirectory)
        try? FileManager.default.removeItem(at: output)
    }
}
