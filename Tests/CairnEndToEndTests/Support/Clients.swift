import Foundation
import Testing

/// The real clients the end-to-end tests drive, found on the PATH.
enum Clients {
    /// True under CI, where a missing client fails its tests instead of skipping them.
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false }

    /// The path of an executable on the PATH, or nil.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Whether a Python module imports.
    static func pythonHas(_ module: String) -> Bool {
        (try? run(["python3", "-c", "import \(module)"], environment: ProcessInfo.processInfo.environment).status) == 0
    }

    /// Whether a test needing these tools should run: yes when they are present, and always under CI (where the
    /// test then fails on the missing tool instead of being skipped).
    static func available(_ tools: [String], python: [String] = []) -> Bool {
        isCI || (tools.allSatisfy { find($0) != nil } && python.allSatisfy { pythonHas($0) })
    }

    /// Records a failure naming each missing tool; returns false when something is missing.
    static func require(_ tools: [String], python: [String] = []) -> Bool {
        var ok = true
        for tool in tools where find(tool) == nil {
            Issue.record("\(tool) is not installed; .ci/run installs it (apt-get install -y \(tool))")
            ok = false
        }
        for module in python where !pythonHas(module) {
            Issue.record("the Python module \(module) is missing; .ci/run installs it (pip install \(module))")
            ok = false
        }
        return ok
    }

    struct Result {
        let status: Int32
        let output: String
    }

    /// Runs a command to completion, capturing stdout and stderr together through a file (no pipe to fill up).
    static func run(_ arguments: [String], environment: [String: String], directory: URL? = nil) throws -> Result {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-client-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        if let directory { process.currentDirectoryURL = directory }
        try process.run()
        process.waitUntilExit()
        try handle.close()
        return Result(status: process.terminationStatus, output: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// The path of a script shipped in `Clients/`.
    static func script(_ name: String) -> String {
        Bundle.module.url(forResource: "Clients/\(name)", withExtension: nil)?.path
            ?? Bundle.module.bundleURL.appendingPathComponent("Clients/\(name)").path
    }

    /// Runs a client script against a server; records the script's output as the failure when it exits non-zero.
    static func runScript(
        _ interpreter: String, _ name: String, server: CairnServerProcess, bucketPrefix: String,
        extraEnvironment: [String: String] = [:]
    ) throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("cairn-work-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var environment = server.clientEnvironment
        environment["CAIRN_WORK"] = work.path
        environment["CAIRN_BUCKET_PREFIX"] = bucketPrefix
        environment.merge(extraEnvironment) { $1 }
        let result = try run([interpreter, script(name)], environment: environment, directory: work)
        if result.status != 0 {
            Issue.record(
                "\(name) failed with status \(result.status) against \(server.endpoint)\n--- client output (last 6000 chars) ---\n\(result.output.suffix(6000))\n--- server log (last 3000 chars) ---\n\(server.log.suffix(3000))"
            )
        }
    }

    /// A self-signed certificate for 127.0.0.1 and localhost, made with openssl.
    static func makeCertificate(in directory: URL) throws -> (certificate: String, key: String) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let result = try run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ],
            environment: ProcessInfo.processInfo.environment
        )
        guard result.status == 0 else { throw ServerFailure("openssl could not make a certificate:\n\(result.output)") }
        return (certificate, key)
    }
}
