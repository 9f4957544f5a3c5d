import CairnSigV4
import Foundation

/// `moto_server` (PyPI `moto[server]`) on a free loopback port: the S3 peer, keeping objects in memory.
final class MotoInstance: Sendable {
    let child: ChildProcess
    let port: Int

    init(logDirectory: URL) async throws {
        port = try LoopbackSocket.freePort()
        child = try ChildProcess(
            name: "moto", arguments: ["moto_server", "-H", "127.0.0.1", "-p", String(port)], logDirectory: logDirectory
        )
        let deadline = ContinuousClock.now + .seconds(60)
        while LoopbackSocket.httpStatus(port: port, path: "/moto-api/") == nil {
            guard child.isRunning else { throw BenchError("moto_server exited: \(child.log.suffix(2000))") }
            guard ContinuousClock.now < deadline else { throw BenchError("moto_server did not answer within 60 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    var endpoint: ObjectEndpoint {
        ObjectEndpoint(
            system: "moto", baseURL: "http://127.0.0.1:\(port)", prefix: "/bench",
            signer: SigV4Signer(accessKeyID: "testing", secretAccessKey: "testing", region: "us-east-1")
        )
    }

    func stop() async { await child.stop() }
}
