import CairnCore
import Foundation

/// Runs short-lived commands (openssl, dd, curl, version queries) and collects what they print.
enum Shell {
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Both streams, for error messages and tools such as `dd` that report on stderr.
        var combined: String { stdout + stderr }
    }

    /// The full path of an executable: `name` itself when it contains a slash, else the first match in `PATH`.
    static func locate(_ name: String) throws -> String {
        if name.contains("/") { return name }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw BenchError("\(name) is not installed (not found in PATH)")
    }

    /// Whether an executable is on `PATH`.
    static func exists(_ name: String) -> Bool { (try? locate(name)) != nil }

    /// Runs a command to completion (arguments[0] looked up in `PATH`), collecting what it prints.
    static func run(_ arguments: [String], environment: [String: String]? = nil) async throws -> Output {
        let path = try locate(arguments[0])
        let directory = FileManager.default.temporaryDirectory
        let stdoutFile = directory.appendingPathComponent("cairn-bench-\(UUID().uuidString).out")
        let stderrFile = directory.appendingPathComponent("cairn-bench-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: stdoutFile)
            try? FileManager.default.removeItem(at: stderrFile)
        }
        let status: Int32
        do {
            let stdout = try FileHandle(forWritingTo: stdoutFile)
            let stderr = try FileHandle(forWritingTo: stderrFile)
            defer {
                try? stdout.close()
                try? stderr.close()
            }
            let process = try SpawnedProcess(
                executable: path, arguments: Array(arguments.dropFirst()), environment: environment,
                standardInput: .null, standardOutput: .descriptor(stdout.fileDescriptor),
                standardError: .descriptor(stderr.fileDescriptor)
            )
            status = await process.waitForExit().status
        }
        return Output(
            status: status,
            stdout: (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        )
    }

    /// Runs a command and throws, with what it printed, unless it exits 0.
    @discardableResult
    static func check(_ arguments: [String], environment: [String: String]? = nil) async throws -> Output {
        let output = try await run(arguments, environment: environment)
        guard output.status == 0 else {
            throw BenchError(
                "\(arguments.joined(separator: " ")) exited with \(output.status): \(output.combined.suffix(2000))")
        }
        return output
    }
}

/// A failure of the benchmark itself, as one line a person can act on.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
