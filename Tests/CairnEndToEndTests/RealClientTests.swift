import CairnTestSupport
import Foundation
import Testing

/// The AWS CLI, boto3 and rclone against a real `cairn serve`, over HTTP and over HTTPS (where the AWS CLI and
/// boto3 send `aws-chunked` bodies with trailing checksums).
@Suite("Real S3 clients", .serialized)
struct RealClientTests {
    @Test("AWS CLI over HTTP", .requires("aws", "curl"))
    func awsCLIOverHTTP() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await Clients.runScript("bash", "awscli.sh", server: server, bucketPrefix: "cli-http")
    }

    @Test("AWS CLI over HTTPS", .requires("aws", "curl", "openssl"))
    func awsCLIOverHTTPS() async throws {
        let certificates = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: certificates) }
        let server = try CairnServerProcess(tls: try await Clients.makeCertificate(in: certificates))
        try server.start()
        #expect(server.endpoint.hasPrefix("https://"))
        try await Clients.runScript("bash", "awscli.sh", server: server, bucketPrefix: "cli-https")
    }

    @Test("boto3 over HTTP", .requires("python3", python: ["boto3", "awscrt"]))
    func boto3OverHTTP() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await Clients.runScript("python3", "boto3_client.py", server: server, bucketPrefix: "boto-http")
    }

    @Test("boto3 over HTTPS", .requires("python3", "openssl", python: ["boto3", "awscrt"]))
    func boto3OverHTTPS() async throws {
        let certificates = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: certificates) }
        let server = try CairnServerProcess(tls: try await Clients.makeCertificate(in: certificates))
        try server.start()
        try await Clients.runScript("python3", "boto3_client.py", server: server, bucketPrefix: "boto-https")
    }

    @Test("rclone", .requires("rclone"))
    func rclone() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await Clients.runScript("bash", "rclone.sh", server: server, bucketPrefix: "rclone")
    }

    @Test("rclone signing with Signature Version 2 (v2_auth)", .requires("rclone"))
    func rcloneSignatureVersion2() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await Clients.runScript(
            "bash", "rclone.sh", server: server, bucketPrefix: "rclone-v2",
            extraEnvironment: ["CAIRN_RCLONE_V2_AUTH": "true"])
    }

    @Test(
        "Signature Version 2 as boto3 and the AWS CLI presign at their defaults, downloaded with curl",
        .requires("python3", "aws", "curl", python: ["boto3"]))
    func signatureVersion2Defaults() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await Clients.runScript("python3", "sigv2.py", server: server, bucketPrefix: "sigv2")
    }

    @Test(
        "S3 edge cases, tagging, GetObjectAttributes and CORS through boto3 and the AWS CLI at their defaults",
        .requires("python3", "aws", python: ["boto3"]))
    func s3Compatibility() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await Clients.runScript("python3", "s3compat.py", server: server, bucketPrefix: "compat")
    }

    @Test(
        "Versioning through boto3 and the AWS CLI at their defaults", .requires("python3", "aws", python: ["boto3"]))
    func versioning() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await Clients.runScript("python3", "versioning.py", server: server, bucketPrefix: "versions")
    }

    @Test(
        "Large downloads over HTTP: sent from blob files, exact in every range, no file left open",
        .requires("python3", python: ["boto3"]))
    func downloadsOverHTTP() async throws {
        let server = try CairnServerProcess()
        try server.start()
        try await runDownloads(server, bucketPrefix: "down-http")
    }

    @Test(
        "Large downloads over HTTPS: read through the server, exact in every range, no file left open",
        .requires("python3", "openssl", python: ["boto3"]))
    func downloadsOverHTTPS() async throws {
        let certificates = FileManager.default.temporaryDirectory.appendingPathComponent(
            "cairn-tls-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: certificates) }
        let server = try CairnServerProcess(tls: try await Clients.makeCertificate(in: certificates))
        try server.start()
        try await runDownloads(server, bucketPrefix: "down-https")
    }

    @Test(
        "Downloads with no blob memory cache: small reads answered after a read off the network thread, in order",
        .requires("python3", python: ["boto3"]))
    func downloadsWithoutBlobCache() async throws {
        let server = try CairnServerProcess()
        // Small objects are then never in memory once their rows are written: every read of one goes to the
        // small-blob table, the pipelined ones included.
        server.environment["CAIRN_CACHE_MEMORY_BYTES"] = "0"
        try server.start()
        try await runDownloads(server, bucketPrefix: "down-nocache")
    }

    private func runDownloads(_ server: CairnServerProcess, bucketPrefix: String) async throws {
        let pid = try #require(server.process?.pid)
        try await Clients.runScript(
            "python3", "downloads.py", server: server, bucketPrefix: bucketPrefix,
            extraEnvironment: ["CAIRN_SERVER_PID": String(pid)])
    }
}
