import CairnCore
import Foundation

/// Runs commands the tests need (clients, compilers, git) to completion.
public enum ChildProcess {
    /// How a command ended and what it printed (stdout and stderr together).
    public struct Result: Sendable {
        public let status: Int32
        public let output: String
    }

    /// Runs a command found on the PATH; its output goes through a file, so a chatty command cannot fill a pipe and
    /// stall. Its standard input is the file `input`, or empty. Waits without holding a thread: tests that run
    /// servers in-process share the cooperative pool (two threads on a two-core machine) with tests that wait for
    /// clients.
    public static func run(
        _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        directory: URL? = nil, input: URL? = nil
    ) async throws -> Result {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-command-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let inputHandle = try input.map { try FileHandle(forReadingFrom: $0) }
        let process = try SpawnedProcess(
            executable: "/usr/bin/env", arguments: arguments, environment: environment,
            workingDirectory: directory?.path,
            standardInput: inputHandle.map { .descriptor($0.fileDescriptor) } ?? .null,
            standardOutput: .descriptor(handle.fileDescriptor), standardError: .descriptor(handle.fileDescriptor)
        )
        let termination = await process.waitForExit()
        try handle.close()
        try inputHandle?.close()
        return Result(status: termination.status, output: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// Runs a command that must succeed in `directory`; returns what it printed, or throws with its output.
    @discardableResult
    public static func output(
        _ arguments: [String], in directory: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> String {
        let result = try await run(arguments, environment: environment, directory: URL(fileURLWithPath: directory))
        guard result.status == 0 else {
            throw CommandFailure(
                description: "\(arguments.joined(separator: " ")) failed (\(result.status)): \(result.output)")
        }
        return result.output
    }
}
