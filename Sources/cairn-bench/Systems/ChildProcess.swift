import CairnCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A process the benchmark started: its output goes to a log file, and it is stopped when the run ends,
/// also when the run fails or is interrupted (see ``ChildProcessRegistry``).
final class ChildProcess: @unchecked Sendable {  // state is set before `start` returns and only read afterwards
    let name: String
    let process: SpawnedProcess
    let logFile: URL

    /// Starts `arguments[0]` (looked up in `PATH` unless it is a path) with `arguments[1...]`.
    init(name: String, arguments: [String], environment: [String: String]? = nil, logDirectory: URL) throws {
        self.name = name
        logFile = logDirectory.appendingPathComponent("\(name).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: logFile)
        defer { try? handle.close() }
        process = try SpawnedProcess(
            executable: try Shell.locate(arguments[0]), arguments: Array(arguments.dropFirst()),
            environment: environment, standardInput: .null, standardOutput: .descriptor(handle.fileDescriptor),
            standardError: .descriptor(handle.fileDescriptor)
        )
        ChildProcessRegistry.shared.add(self)
    }

    var pid: Int32 { process.pid }
    var isRunning: Bool { process.isRunning }
    /// The exit status (128 + N when killed by signal N), or nil while it runs.
    var exitStatus: Int32? { process.termination?.status }

    /// Everything the process printed so far.
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// The peak resident set size so far (`VmHWM` in /proc/PID/status), in bytes.
    func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        else { return nil }
        return kilobytes * 1024
    }

    /// Sends `signal`, waits up to `timeout` for the exit, then kills it.
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(20)) async {
        defer { ChildProcessRegistry.shared.remove(self) }
        guard process.isRunning else { return }
        process.send(signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if process.isRunning {
            process.send(SIGKILL)
            _ = await process.waitForExit()
        }
    }
}

/// Every child process still running, so that a failing or interrupted run stops them all before exiting.
final class ChildProcessRegistry: @unchecked Sendable {  // every access holds `lock`
    static let shared = ChildProcessRegistry()
    private let lock = NSLock()
    private var children: [ObjectIdentifier: ChildProcess] = [:]
    private var signalSources: [any DispatchSourceSignal] = []

    func add(_ child: ChildProcess) { lock.withLock { children[ObjectIdentifier(child)] = child } }
    func remove(_ child: ChildProcess) { _ = lock.withLock { children.removeValue(forKey: ObjectIdentifier(child)) } }

    /// Kills every child still running (SIGTERM, then SIGKILL after a grace period).
    func killAll() {
        let running = lock.withLock { Array(children.values) }
        for child in running where child.isRunning { child.process.send(SIGTERM) }
        let deadline = Date().addingTimeInterval(5)
        while running.contains(where: \.isRunning), Date() < deadline { usleep(20_000) }
        for child in running where child.isRunning { child.process.send(SIGKILL) }
        lock.withLock { children.removeAll() }
    }

    /// On SIGINT or SIGTERM, stops the children and exits with 128 + the signal's number.
    func stopChildrenOnSignals() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                FileHandle.standardError.write(Data("cairn-bench: interrupted, stopping the servers it started\n".utf8))
                killAll()
                exit(128 + signalNumber)
            }
            source.resume()
            lock.withLock { signalSources.append(source) }
        }
    }
}
