import CairnTestSupport
import Foundation
import Testing

/// The client scripts shipped in `Clients/` and how to run them against a server.
enum Clients {
    /// The path of a script shipped in `Clients/`.
    static func script(_ name: String) -> String {
        Bundle.module.url(forResource: "Clients/\(name)", withExtension: nil)?.path
            ?? Bundle.module.bundleURL.appendingPathComponent("Clients/\(name)").path
    }

    /// Runs a client script against a server; records the script's output as the failure when it exits non-zero.
    static func runScript(
        _ interpreter: String, _ name: String, server: CairnServerProcess, bucketPrefix: String,
        extraEnvironment: [String: String] = [:]
    ) async throws {
        let work = try TemporaryDirectory(prefix: "cairn-work")
        var environment = server.clientEnvironment
        environment["CAIRN_WORK"] = work.path
        environment["CAIRN_BUCKET_PREFIX"] = bucketPrefix
        environment.merge(extraEnvironment) { $1 }
        let result = try await ChildProcess.run(
            [interpreter, script(name)], environment: environment, directory: work.url)
        if result.status != 0 {
            Issue.record(
                "\(name) failed with status \(result.status) against \(server.endpoint)\n--- client output (last 6000 chars) ---\n\(result.output.suffix(6000))\n--- server log (last 3000 chars) ---\n\(server.log.suffix(3000))"
            )
        }
    }

    /// A self-signed certificate for 127.0.0.1 and localhost, made with openssl.
    static func makeCertificate(in directory: URL) async throws -> (certificate: String, key: String) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let result = try await ChildProcess.run([
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
            "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        guard result.status == 0 else { throw ServerFailure("openssl could not make a certificate:\n\(result.output)") }
        return (certificate, key)
    }
}
