import CairnCore
import CairnTestSupport
import Foundation

/// A TCP proxy in front of a server whose answers arrive at a fixed rate in all (`Fixtures/throttled-proxy.py`), so
/// that a restore through it takes long enough to show progress on any machine, however fast or loaded.
final class ThrottledProxy: @unchecked Sendable {  // owned by the one test that starts it
    /// `http://127.0.0.1:PORT` of the proxy.
    let endpoint: String
    private let process: SpawnedProcess
    private let outputFile: String

    /// Starts a proxy to the server at `target` (`http://127.0.0.1:PORT`) that sends its answers at `bytesPerSecond`.
    init(to target: String, bytesPerSecond: Int) async throws {
        let script = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/throttled-proxy.py").path
        guard let port = URL(string: target)?.port else { throw CommandFailure(description: "no port in \(target)") }
        outputFile = FileManager.default.temporaryDirectory.path + "/cairn-proxy-\(UUID().uuidString.prefix(8)).out"
        _ = FileManager.default.createFile(atPath: outputFile, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputFile))
        defer { try? output.close() }
        process = try SpawnedProcess(
            executable: "/usr/bin/env", arguments: ["python3", script, String(port), String(bytesPerSecond)],
            standardInput: .null, standardOutput: .descriptor(output.fileDescriptor),
            standardError: .descriptor(output.fileDescriptor)
        )
        let deadline = Date().addingTimeInterval(60)
        var printed = ""
        while !printed.hasSuffix("\n") {
            guard Date() < deadline, process.isRunning else {
                throw CommandFailure(description: "the throttled proxy did not start: \(printed)")
            }
            try await Task.sleep(for: .milliseconds(20))
            printed = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        }
        guard let listening = Int(printed.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw CommandFailure(description: "the throttled proxy printed no port: \(printed)")
        }
        endpoint = "http://127.0.0.1:\(listening)"
    }

    deinit {
        process.send(SIGKILL)
        try? FileManager.default.removeItem(atPath: outputFile)
    }
}
