import Foundation
import Testing

/// External tools the fixtures need (git, make, cc). Missing tools skip a test locally and fail it under CI.
enum Tools {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false }

    static func available(_ tool: String) -> Bool {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(tool)") }
    }

    /// True when the tests that need these tools should run: they are there, or CI is set (and the test fails).
    static func enabled(_ tools: String...) -> Bool {
        isCI || tools.allSatisfy(available)
    }

    /// Fails with a clear message when a tool is missing.
    static func require(_ tools: String...) throws {
        for tool in tools where !available(tool) {
            throw ToolMissing(description: "\(tool) is not installed (apt-get install \(tool == "cc" ? "gcc" : tool))")
        }
    }

    /// Runs a command in a directory; throws when it fails.
    @discardableResult
    static func run(_ arguments: [String], in directory: String, environment: [String: String]? = nil) throws -> String
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        if let environment { process.environment = environment }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ToolMissing(
                description: "\(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text)")
        }
        return text
    }
}

struct ToolMissing: Error, CustomStringConvertible {
    let description: String
}
