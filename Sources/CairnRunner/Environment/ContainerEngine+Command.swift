import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension ContainerEngine {
    /// How an engine command ended and what it printed.
    struct CommandResult: Sendable {
        let status: Int32
        let output: String
        let errorOutput: String

        /// The engine's own explanation of a failure: the last line of its standard error (podman prints retries
        /// and warnings before the `Error: …` line), or the status when it printed nothing.
        var reason: String {
            let lines = errorOutput.split(whereSeparator: \.isNewline).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            return lines.last { !$0.isEmpty } ?? "exited with status \(status)"
        }
    }

    /// Runs the engine with `arguments` and waits for it without holding a thread.
    ///
    /// Its output goes to unlinked temporary files rather than pipes: nothing has to read while the engine writes
    /// (a large `diff` cannot stall it), and nothing is left on disk whatever happens.
    func run(_ arguments: [String]) async throws -> CommandResult {
        let output = try Self.anonymousFile()
        defer { close(output) }
        let errorOutput = try Self.anonymousFile()
        defer { close(errorOutput) }
        let process = try SpawnedProcess(
            executable: executable, arguments: arguments, standardInput: .null,
            standardOutput: .descriptor(output), standardError: .descriptor(errorOutput))
        let termination = await process.waitForExit()
        return CommandResult(
            status: termination.status, output: Self.contents(of: output), errorOutput: Self.contents(of: errorOutput))
    }

    /// Runs the engine with `arguments` and returns its standard output.
    ///
    /// - Throws: ``ContainerEngineError`` (``ContainerEngineError/Code/commandFailed``) with the command and the
    ///   engine's reason when it fails.
    func output(_ arguments: [String]) async throws -> String {
        let result = try await run(arguments)
        guard result.status == 0 else {
            throw ContainerEngineError(.commandFailed, "\(commandLine(arguments)) failed: \(result.reason)")
        }
        return result.output
    }

    /// Runs the engine with `arguments`, blocking the calling thread until it ends; for cleanup where nothing can
    /// be awaited (a signal handler's queue, a `defer`), never on the cooperative pool in the normal course.
    ///
    /// - Returns: the exit status, or nil when the engine could not start.
    @discardableResult
    func runBlocking(_ arguments: [String]) -> Int32? {
        let process = try? SpawnedProcess(
            executable: executable, arguments: arguments, standardInput: .null, standardOutput: .null,
            standardError: .null)
        return process?.waitUntilExit().status
    }

    /// The command as a person would type it, for error messages.
    func commandLine(_ arguments: [String]) -> String {
        ([kind.rawValue] + arguments).joined(separator: " ")
    }

    /// A temporary file already unlinked: it lives as long as its descriptor.
    private static func anonymousFile() throws -> Int32 {
        var template = Array((FileManager.default.temporaryDirectory.path + "/cairn-engine-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw ContainerEngineError(
                .commandFailed,
                "cannot create a temporary file in \(FileManager.default.temporaryDirectory.path): "
                    + String(cString: strerror(errno)))
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return descriptor
    }

    /// Everything written to `descriptor`, read from its start.
    private static func contents(of descriptor: Int32) -> String {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
            offset += off_t(count)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
