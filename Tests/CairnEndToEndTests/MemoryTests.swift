import CairnTestSupport
import Foundation
import Testing

/// Streaming keeps the server's memory flat: a 2 GiB PUT and a 2 GiB GET each stay under 150 MB resident.
@Suite("Resource use", .serialized)
struct MemoryTests {
    /// The server's peak resident set size so far (VmHWM), in bytes.
    private func peakResidentBytes(_ server: CairnServerProcess) throws -> Int {
        let pid = try #require(server.process?.pid)
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
        return kilobytes * 1024
    }

    @Test(
        "2 GiB PUT and GET stay under 150 MB resident",
        .requires("python3", "curl", "sh", python: ["boto3"]))
    func twoGiBStream() async throws {
        let server = try CairnServerProcess()
        try server.start()
        let env = server.clientEnvironment
        let script = Clients.script("s3op.py")
        #expect(try await ChildProcess.run(["python3", script, "mb", "memory"], environment: env).status == 0)
        let size = 2 << 30
        let put = try await ChildProcess.run(["python3", script, "presign-put", "memory", "two-gib"], environment: env)
        let putURL = put.output.trimmingCharacters(in: .whitespacesAndNewlines)
        // The body streams from a pipe: curl sends it chunked, the server never sees it whole.
        let upload = try await ChildProcess.run(
            ["sh", "-c", "head -c \(size) /dev/urandom | curl -sS -f -T - \"$0\" -w '%{http_code}'", putURL],
            environment: env
        )
        #expect(upload.status == 0 && upload.output.hasSuffix("200"), "upload: \(upload.output)")
        let afterPut = try peakResidentBytes(server)
        #expect(afterPut < 150_000_000, "peak RSS after a 2 GiB PUT: \(afterPut / 1_000_000) MB")

        let head = try await ChildProcess.run(["python3", script, "head", "memory", "two-gib"], environment: env)
        #expect(head.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(size))
        let download = try await ChildProcess.run(
            [
                "python3", "-c",
                """
                import boto3, os, sys, urllib.request
                from botocore.config import Config
                s3 = boto3.client("s3", endpoint_url=os.environ["CAIRN_ENDPOINT"],
                                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
                url = s3.generate_presigned_url("get_object", Params={"Bucket": "memory", "Key": "two-gib"})
                total = 0
                with urllib.request.urlopen(url) as response:
                    while chunk := response.read(1 << 20):
                        total += len(chunk)
                print(total)
                """,
            ],
            environment: env
        )
        #expect(
            download.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(size),
            "download: \(download.output)")
        let afterGet = try peakResidentBytes(server)
        #expect(afterGet < 150_000_000, "peak RSS after a 2 GiB GET: \(afterGet / 1_000_000) MB")
        print("peak RSS: after 2 GiB PUT \(afterPut / 1_000_000) MB, after 2 GiB GET \(afterGet / 1_000_000) MB")
    }
}
